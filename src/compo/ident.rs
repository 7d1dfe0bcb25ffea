//! Russian and GS1 identifiers: INN, OGRN/OGRNIP, KPP, bank accounts against BIK, barcodes.
//!
//! These are pure functions over strings so that the record checks, the generators and the
//! partner-format bridges share one implementation of each check-digit algorithm. Besides the
//! yes/no answers, the `expected_*` helpers return what the check digits should have been, so
//! that a message can tell the user exactly which digit is off.

use thiserror::Error;

/// Why an identifier was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdentProblem {
    /// Wrong length or a non-digit character.
    #[error("wrong length or a character that is not a digit")]
    Format,
    /// Well-formed, but a check digit does not match the other digits.
    #[error("wrong check digit")]
    Checksum,
}

const INN10_WEIGHTS: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const INN12_WEIGHTS_12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn digit_values(s: &str) -> Vec<u32> {
    s.bytes().map(|b| u32::from(b - b'0')).collect()
}

/// The INN control digit over `digits` with `weights` (the digits before the control one).
fn inn_digit(digits: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    sum % 11 % 10
}

/// The check digits an INN of 10 or 12 digits should end with, computed from its other digits:
/// one digit for a 10-digit INN, two for a 12-digit one. `None` when `s` is not 10 or 12 digits.
pub fn expected_inn_check_digits(s: &str) -> Option<String> {
    if !all_digits(s) {
        return None;
    }
    let d = digit_values(s);
    match d.len() {
        10 => Some(inn_digit(&d[..9], &INN10_WEIGHTS).to_string()),
        12 => {
            let c11 = inn_digit(&d[..10], &INN12_WEIGHTS_11);
            // The 12th digit is computed over the *expected* 11th, so that one typo is reported
            // as one wrong digit rather than two.
            let mut first11 = d[..10].to_vec();
            first11.push(c11);
            let c12 = inn_digit(&first11, &INN12_WEIGHTS_12);
            Some(format!("{c11}{c12}"))
        }
        _ => None,
    }
}

/// Checks an INN: 10 digits (legal entity) or 12 (entrepreneur, person) with valid check digits.
pub fn check_inn(s: &str) -> Result<(), IdentProblem> {
    let expected = expected_inn_check_digits(s).ok_or(IdentProblem::Format)?;
    if s.ends_with(&expected) {
        Ok(())
    } else {
        Err(IdentProblem::Checksum)
    }
}

/// The check digit an OGRN (13 digits) or OGRNIP (15 digits) should end with.
/// `None` when `s` is not 13 or 15 digits.
pub fn expected_ogrn_check_digit(s: &str) -> Option<u8> {
    if !all_digits(s) {
        return None;
    }
    let (body_len, modulus) = match s.len() {
        13 => (12, 11),
        15 => (14, 13),
        _ => return None,
    };
    // At most 14 digits: the body always fits in a u64.
    let body: u64 = s[..body_len].parse().ok()?;
    Some((body % modulus % 10) as u8)
}

/// Checks an OGRN (13 digits, legal entity) or OGRNIP (15 digits, entrepreneur).
pub fn check_ogrn(s: &str) -> Result<(), IdentProblem> {
    let expected = expected_ogrn_check_digit(s).ok_or(IdentProblem::Format)?;
    if s.as_bytes()[s.len() - 1] - b'0' == expected {
        Ok(())
    } else {
        Err(IdentProblem::Checksum)
    }
}

/// Whether a KPP has the shape `^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$` (the letters are the reason
/// this is not simply "9 digits": some tax offices use them in positions 5 and 6).
pub fn kpp_well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..6]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[6..].iter().all(u8::is_ascii_digit)
}

/// The sum of digit × weight (7, 1, 3 repeating) over the 23-digit control string: three
/// digits taken from the BIK followed by the account.
///
/// Usually the three digits are the BIK's last three (the credit institution's number). For an
/// account opened in a cash settlement centre of the Bank of Russia (an RKC: the BIK ends in
/// 000, 001 or 002) the centre's own code stands in for them: "0" and the BIK's 5th and 6th
/// digits. Both arguments must be all digits of the right length.
fn account_key_sum(bik: &str, account: &str) -> u32 {
    let tail = &bik[6..];
    let prefix = if matches!(tail, "000" | "001" | "002") {
        format!("0{}", &bik[4..6])
    } else {
        tail.to_string()
    };
    const WEIGHTS: [u32; 3] = [7, 1, 3];
    prefix
        .bytes()
        .chain(account.bytes())
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * WEIGHTS[i % 3])
        .sum()
}

/// The control key (the 9th digit) that a 20-digit account should have for this 9-digit BIK.
/// `None` when either is not all digits of the right length.
pub fn expected_account_key(account: &str, bik: &str) -> Option<u8> {
    if account.len() != 20 || bik.len() != 9 || !all_digits(account) || !all_digits(bik) {
        return None;
    }
    // The key sits at index 3 + 8 = 11 of the 23-digit string, where the weight is 3. With the
    // key zeroed the sum is S; we need S + 3k ≡ 0 (mod 10), and since 3·7 ≡ 1 the key is
    // k ≡ −7·S ≡ 3·S (mod 10).
    let mut zeroed = account.as_bytes().to_vec();
    zeroed[8] = b'0';
    let zeroed = std::str::from_utf8(&zeroed).ok()?;
    let s = account_key_sum(bik, zeroed);
    Some((s % 10 * 3 % 10) as u8)
}

/// Whether a 20-digit bank account's control key is valid for a 9-digit BIK.
pub fn account_matches_bik(account: &str, bik: &str) -> bool {
    if account.len() != 20 || bik.len() != 9 || !all_digits(account) || !all_digits(bik) {
        return false;
    }
    account_key_sum(bik, account) % 10 == 0
}

/// The GS1 check digit for a body of digits (weights 3, 1, 3, ... from the right).
/// `None` when the body is empty or holds a non-digit.
pub fn gs1_check_digit(body: &str) -> Option<u8> {
    if !all_digits(body) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    Some(((10 - sum % 10) % 10) as u8)
}

/// Whether `s` is an EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a valid check digit.
pub fn barcode_valid(s: &str) -> bool {
    if !matches!(s.len(), 8 | 12 | 13 | 14) || !all_digits(s) {
        return false;
    }
    let (body, check) = s.split_at(s.len() - 1);
    gs1_check_digit(body) == Some(check.as_bytes()[0] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends the INN check digit(s) to a 9- or 10-digit body, independently of the code
    /// under test (written from the algorithm's definition).
    fn make_inn(body: &str) -> String {
        let d: Vec<u32> = body.bytes().map(|b| u32::from(b - b'0')).collect();
        let dot = |w: &[u32], d: &[u32]| d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>();
        match d.len() {
            9 => format!("{body}{}", dot(&INN10_WEIGHTS, &d) % 11 % 10),
            10 => {
                let c11 = dot(&INN12_WEIGHTS_11, &d) % 11 % 10;
                let mut d11 = d.clone();
                d11.push(c11);
                let c12 = dot(&INN12_WEIGHTS_12, &d11) % 11 % 10;
                format!("{body}{c11}{c12}")
            }
            _ => panic!("bad body"),
        }
    }

    fn make_ogrn(body: &str) -> String {
        let n: u64 = body.parse().unwrap();
        let m = if body.len() == 12 { 11 } else { 13 };
        format!("{body}{}", n % m % 10)
    }

    /// Changes the digit at `i` to a different one.
    fn mutate(s: &str, i: usize) -> String {
        let mut b = s.as_bytes().to_vec();
        b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn inn_fixed_examples() {
        // Sberbank's INN, a well-known valid legal-entity number.
        assert_eq!(check_inn("7707083893"), Ok(()));
        assert_eq!(check_inn("7707083894"), Err(IdentProblem::Checksum));
        assert_eq!(
            expected_inn_check_digits("7707083894").as_deref(),
            Some("3")
        );
        // A 12-digit INN computed by hand: 500100732259.
        assert_eq!(check_inn("500100732259"), Ok(()));
        assert_eq!(check_inn("500100732258"), Err(IdentProblem::Checksum));
        assert_eq!(check_inn("500100732269"), Err(IdentProblem::Checksum));
        assert_eq!(
            expected_inn_check_digits("500100732200").as_deref(),
            Some("59")
        );
    }

    #[test]
    fn inn_generated_and_mutated() {
        for body in [
            "123456789",
            "000000001",
            "987654321",
            "770708389",
            "366200211",
        ] {
            let inn = make_inn(body);
            assert_eq!(check_inn(&inn), Ok(()), "{inn}");
            assert_eq!(check_inn(&mutate(&inn, 9)), Err(IdentProblem::Checksum));
        }
        for body in ["1234567890", "7712345678", "0000000019", "5001007322"] {
            let inn = make_inn(body);
            assert_eq!(check_inn(&inn), Ok(()), "{inn}");
            assert_eq!(check_inn(&mutate(&inn, 10)), Err(IdentProblem::Checksum));
            assert_eq!(check_inn(&mutate(&inn, 11)), Err(IdentProblem::Checksum));
        }
    }

    #[test]
    fn inn_format() {
        for bad in [
            "",
            "770708389",
            "77070838931",
            "7707O83893",
            " 7707083893",
            "７７０７０８３８９３",
        ] {
            assert_eq!(check_inn(bad), Err(IdentProblem::Format), "{bad:?}");
        }
    }

    #[test]
    fn ogrn_and_ogrnip() {
        // Sberbank's OGRN.
        assert_eq!(check_ogrn("1027700132195"), Ok(()));
        assert_eq!(check_ogrn("1027700132196"), Err(IdentProblem::Checksum));
        assert_eq!(expected_ogrn_check_digit("1027700132190"), Some(5));
        for body in ["102770013219", "116774600000", "503000000001"] {
            let o = make_ogrn(body);
            assert_eq!(check_ogrn(&o), Ok(()), "{o}");
            assert_eq!(check_ogrn(&mutate(&o, 12)), Err(IdentProblem::Checksum));
        }
        for body in ["30450011670009", "31877460000123", "99999999999999"] {
            let o = make_ogrn(body);
            assert_eq!(o.len(), 15);
            assert_eq!(check_ogrn(&o), Ok(()), "{o}");
            assert_eq!(check_ogrn(&mutate(&o, 14)), Err(IdentProblem::Checksum));
        }
        for bad in [
            "",
            "102770013219",
            "10277001321950",
            "1027700132I95",
            "3045001167000912",
        ] {
            assert_eq!(check_ogrn(bad), Err(IdentProblem::Format), "{bad:?}");
        }
    }

    #[test]
    fn kpp_shape() {
        assert!(kpp_well_formed("773601001"));
        assert!(kpp_well_formed("7736AB001"));
        assert!(kpp_well_formed("77360Z001"));
        for bad in [
            "",
            "77360100",
            "7736010011",
            "7736ab001",
            "A73601001",
            "7736010A1",
        ] {
            assert!(!kpp_well_formed(bad), "{bad:?}");
        }
    }

    /// Builds a valid account for a BIK from its other 19 digits, straight from the definition
    /// (tries the ten keys) rather than through the closed form used by the code.
    fn make_account(bik: &str, template: &str) -> String {
        for k in 0..10u8 {
            let acc = format!("{}{}{}", &template[..8], k, &template[9..]);
            let tail = &bik[6..];
            let prefix = if ["000", "001", "002"].contains(&tail) {
                format!("0{}", &bik[4..6])
            } else {
                tail.to_string()
            };
            let s: u32 = format!("{prefix}{acc}")
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * [7, 1, 3][i % 3])
                .sum();
            if s % 10 == 0 {
                return acc;
            }
        }
        panic!("no key for {template}");
    }

    #[test]
    fn bank_accounts() {
        // Accounts generated for ordinary banks (BIKs not ending in 000/001/002).
        for (bik, template) in [
            ("044525225", "40702810X38000012345"),
            ("044525974", "40802810X00000123456"),
            ("040349602", "40702810X30000001234"),
        ] {
            let acc = make_account(bik, &template.replace('X', "0"));
            assert!(account_matches_bik(&acc, bik), "{acc} {bik}");
            assert_eq!(
                expected_account_key(&acc, bik),
                Some(acc.as_bytes()[8] - b'0')
            );
            for i in [0, 8, 19] {
                assert!(!account_matches_bik(&mutate(&acc, i), bik));
            }
            // The same account is (almost always) wrong for another bank.
            assert!(!account_matches_bik(&acc, &mutate(bik, 8)));
        }
    }

    #[test]
    fn bank_account_fixed_example() {
        // 40702810?38000000001 at BIK 044525225 (prefix "225"): the key worked out by hand is 9.
        assert!(account_matches_bik("40702810938000000001", "044525225"));
        assert!(!account_matches_bik("40702810438000000001", "044525225"));
        assert_eq!(
            expected_account_key("40702810438000000001", "044525225"),
            Some(9)
        );
    }

    #[test]
    fn bank_account_in_rkc_uses_the_centre_code() {
        for bik in ["044525000", "044583001", "044525002"] {
            let acc = make_account(bik, "40101810000000010000");
            assert!(account_matches_bik(&acc, bik), "{acc} {bik}");
            assert_eq!(
                expected_account_key(&acc, bik),
                Some(acc.as_bytes()[8] - b'0')
            );
        }
        // BIK 044525000 gives the prefix "025": the key is 8. With the naive prefix "000" it
        // would have been 7, which must be refused.
        assert!(account_matches_bik("40101810800000010041", "044525000"));
        assert!(!account_matches_bik("40101810700000010041", "044525000"));
        assert_eq!(
            expected_account_key("40101810700000010041", "044525000"),
            Some(8)
        );
    }

    #[test]
    fn bank_account_shapes() {
        assert!(!account_matches_bik("4070281043800000000", "044525225"));
        assert!(!account_matches_bik("407028104380000000011", "044525225"));
        assert!(!account_matches_bik("40702810438000000001", "04452522"));
        assert!(!account_matches_bik("4070281043800000000A", "044525225"));
        assert_eq!(expected_account_key("x", "044525225"), None);
    }

    #[test]
    fn gs1() {
        assert_eq!(gs1_check_digit("400638133393"), Some(1));
        assert_eq!(gs1_check_digit("9638507"), Some(4));
        assert_eq!(gs1_check_digit("03600029145"), Some(2));
        assert_eq!(gs1_check_digit(""), None);
        assert_eq!(gs1_check_digit("12a"), None);
        assert!(barcode_valid("4006381333931")); // EAN-13
        assert!(barcode_valid("96385074")); // EAN-8
        assert!(barcode_valid("036000291452")); // UPC-A
        assert!(barcode_valid("14006381333938")); // GTIN-14 of the EAN-13 above
        assert!(!barcode_valid("4006381333932"));
        assert!(!barcode_valid("96385075"));
        assert!(!barcode_valid("036000291453"));
        assert!(!barcode_valid("14006381333939"));
        // Right check digit, wrong length.
        let nine = format!("12345678{}", gs1_check_digit("12345678").unwrap());
        assert!(!barcode_valid(&nine));
        assert!(!barcode_valid("400638133393A"));
        assert!(!barcode_valid(""));
    }
}
