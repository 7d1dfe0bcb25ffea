//! Products' barcodes: the GS1 check digit of EAN-8, UPC-A, EAN-13 and GTIN-14 (other
//! lengths are the schema's pattern to report).

use serde_json::{Map, Value};

use super::{is_digits, Check, Cx, Reads};
use crate::compo::ident;
use crate::compo::messages::msg;
use crate::compo::model::DataType;
use crate::compo::report::codes;

pub(crate) struct Barcodes;

impl Check for Barcodes {
    fn reads(&self, t: DataType) -> Reads {
        match t {
            DataType::Products => Reads::Members(vec!["barcodes"]),
            _ => Reads::Nothing,
        }
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        barcodes(cx, obj);
    }
}

fn barcodes(cx: &mut Cx, obj: &Map<String, Value>) {
    let Some(list) = obj.get("barcodes").and_then(Value::as_array) else {
        return;
    };
    for (j, b) in list.iter().enumerate() {
        let Some(code) = b.as_str() else { continue };
        // Other lengths are the schema's pattern to report.
        if !matches!(code.len(), 8 | 12 | 13 | 14) || !is_digits(code) {
            continue;
        }
        if !ident::barcode_valid(code) {
            let expected = ident::gs1_check_digit(&code[..code.len() - 1])
                .map(|d| d.to_string())
                .unwrap_or_default();
            cx.push(
                &cx.root().field("barcodes").item(j),
                codes::BARCODE_CHECKSUM,
                msg!(
                    cx.lang,
                    "barcode-checksum",
                    barcode = code,
                    expected = expected
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    #[test]
    fn barcodes() {
        let r = json!({"id": "P1", "barcodes": ["4006381333931", "4006381333932", "96385074",
            "96385075", "036000291452", "14006381333938", "14006381333939", "123", 4006381333932u64,
            "ABCDEFGH"]});
        let i = run(DataType::Products, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/barcodes/1", codes::BARCODE_CHECKSUM),
                ("/7/barcodes/3", codes::BARCODE_CHECKSUM),
                ("/7/barcodes/6", codes::BARCODE_CHECKSUM)
            ]
        );
        assert!(i[0].message.contains("\"4006381333932\""));
        assert!(i[0].message.contains("expected 1"));
    }
}
