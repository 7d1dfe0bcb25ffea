"""Check-digit helpers for Russian and GS1 identifiers, shared by the fixture and corpus scripts.

Each `make_*` function takes the digits that carry information and appends the check digits, so
the generated data is valid by construction; `*_ok` verifies a complete identifier.
"""

INN10_W = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN11_W = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_W = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _weighted(digits, weights):
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def make_inn10(body9):
    """A legal entity's INN from its first 9 digits."""
    assert len(body9) == 9 and body9.isdigit()
    return body9 + str(_weighted(body9, INN10_W))


def make_inn12(body10):
    """An entrepreneur's or person's INN from its first 10 digits."""
    assert len(body10) == 10 and body10.isdigit()
    d11 = str(_weighted(body10, INN11_W))
    return body10 + d11 + str(_weighted(body10 + d11, INN12_W))


def inn_ok(inn):
    if len(inn) == 10 and inn.isdigit():
        return make_inn10(inn[:9]) == inn
    if len(inn) == 12 and inn.isdigit():
        return make_inn12(inn[:10]) == inn
    return False


def make_ogrn(body12):
    """OGRN (13 digits) of a legal entity."""
    assert len(body12) == 12 and body12.isdigit()
    return body12 + str(int(body12) % 11 % 10)


def make_ogrnip(body14):
    """OGRNIP (15 digits) of an individual entrepreneur."""
    assert len(body14) == 14 and body14.isdigit()
    return body14 + str(int(body14) % 13 % 10)


def ogrn_ok(ogrn):
    if len(ogrn) == 13 and ogrn.isdigit():
        return make_ogrn(ogrn[:12]) == ogrn
    if len(ogrn) == 15 and ogrn.isdigit():
        return make_ogrnip(ogrn[:14]) == ogrn
    return False


ACC_W = (7, 1, 3) * 8  # 24 weights; 23 are used


def _account_sum(prefix3, account20):
    return sum(int(d) * w for d, w in zip(prefix3 + account20, ACC_W)) % 10


def _with_key(prefix3, account20):
    # The control key is the 9th digit of the account (index 11 of the 23 digits, weight 3);
    # 3 * 7 = 21 = 1 (mod 10), so 7 is the inverse of the weight.
    zeroed = account20[:8] + "0" + account20[9:]
    key = (-_account_sum(prefix3, zeroed) * 7) % 10
    return account20[:8] + str(key) + account20[9:]


def make_account(bik, account20):
    """A settlement account with its control key (digit 9) fixed for the BIK."""
    return _with_key(bik[-3:], account20)


def make_corr_account(bik, account20):
    """A correspondent account with its control key fixed for the BIK."""
    return _with_key("0" + bik[4:6], account20)


def account_ok(bik, account):
    return _account_sum(bik[-3:], account) == 0


def corr_account_ok(bik, account):
    return _account_sum("0" + bik[4:6], account) == 0


def gs1_check(body):
    """GS1 mod-10 check digit for the digits before it (EAN-8/13, UPC-A, GTIN-14)."""
    total = 0
    for i, d in enumerate(reversed(body)):
        total += int(d) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def make_barcode(body):
    return body + gs1_check(body)


def barcode_ok(code):
    return len(code) in (8, 12, 13, 14) and code.isdigit() and gs1_check(code[:-1]) == code[-1]
