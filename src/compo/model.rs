//! The sixteen COMPO data types: their file names, keys, references and publishing order.
//!
//! Everything that depends on *which* type a file holds is table-driven from here, so that the
//! validator, the engine and the bridges agree on one description of the protocol.

use std::fmt;

/// One of the sixteen data types of the COMPO JSON standard (spec section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    PricesTypes,
    PriceGroups,
    Warehouses,
    Segments,
    Managers,
    CategoriesUsers,
    Categories,
    Products,
    Contragents,
    Contracts,
    Customers,
    Prices,
    Remains,
    Finances,
    Acts,
    Orders,
}

impl DataType {
    /// All types, in publishing (dependency) order: a type only refers to types before it,
    /// except `price_groups`, whose discounts may name contragents, contracts and segments.
    pub const ALL: [DataType; 16] = [
        DataType::PricesTypes,
        DataType::PriceGroups,
        DataType::Warehouses,
        DataType::Segments,
        DataType::Managers,
        DataType::CategoriesUsers,
        DataType::Categories,
        DataType::Products,
        DataType::Contragents,
        DataType::Contracts,
        DataType::Customers,
        DataType::Prices,
        DataType::Remains,
        DataType::Finances,
        DataType::Acts,
        DataType::Orders,
    ];

    /// The file stem used in the protocol (`products` in `products.json`).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Categories => "categories",
            DataType::Products => "products",
            DataType::Customers => "customers",
            DataType::CategoriesUsers => "CategoriesUsers",
            DataType::Segments => "segments",
            DataType::Managers => "managers",
            DataType::Contragents => "contragents",
            DataType::Contracts => "contracts",
            DataType::PricesTypes => "prices_types",
            DataType::Prices => "prices",
            DataType::PriceGroups => "price_groups",
            DataType::Warehouses => "warehouses",
            DataType::Remains => "remains",
            DataType::Finances => "finances",
            DataType::Orders => "orders",
            DataType::Acts => "acts",
        }
    }

    /// Exact, case-sensitive lookup: the protocol names `CategoriesUsers` in camel case and the
    /// others in snake case, and a near-miss is a mistake the user must hear about.
    pub fn from_name(name: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Position in publishing order (0 first).
    pub fn rank(self) -> usize {
        DataType::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or(usize::MAX)
    }

    /// The fields that make up a record's key. Composite keys treat a missing field as empty.
    pub fn key_fields(self) -> &'static [&'static str] {
        match self {
            DataType::Prices => &[
                "product_id",
                "prices_type_id",
                "contract_id",
                "min_quantity",
            ],
            DataType::Remains => &["product_id", "warehouse_id"],
            DataType::Finances => &["contragent_id", "contract_id"],
            _ => &["id"],
        }
    }

    /// Whether the key is the single `id` field (other types have composite keys).
    pub fn has_id_key(self) -> bool {
        self.key_fields() == ["id"]
    }

    /// Types the portal writes into `out/`.
    pub fn is_inbound(self) -> bool {
        matches!(
            self,
            DataType::Orders | DataType::Customers | DataType::Contragents
        )
    }

    /// References from this type's records: a path inside a record and the type it names.
    pub fn references(self) -> &'static [Reference] {
        use DataType::*;
        // A macro, not a const fn: only literals are promoted to 'static.
        macro_rules! r {
            ($path:expr, $target:expr) => {
                Reference {
                    path: $path,
                    target: $target,
                }
            };
        }
        use Step::{Each, Field};
        match self {
            Categories => &[r!(&[Field("parent_id")], Categories)],
            Products => &[
                r!(&[Field("category_id")], Categories),
                r!(&[Field("price_group_id")], PriceGroups),
                r!(&[Field("parent_id")], Products),
            ],
            Customers => &[
                r!(&[Field("contragent_ids"), Each], Contragents),
                r!(&[Field("category_id")], CategoriesUsers),
                r!(&[Field("segment_ids"), Each], Segments),
                r!(&[Field("manager_id")], Managers),
            ],
            CategoriesUsers => &[r!(&[Field("prices_type_id")], PricesTypes)],
            Segments | Managers | Warehouses | PricesTypes => &[],
            Contragents => &[
                r!(&[Field("manager_id")], Managers),
                r!(&[Field("segment_id")], Segments),
                r!(&[Field("category_id")], CategoriesUsers),
            ],
            Contracts => &[
                r!(&[Field("contragent_id")], Contragents),
                r!(&[Field("prices_type_id")], PricesTypes),
            ],
            Prices => &[
                r!(&[Field("product_id")], Products),
                r!(&[Field("prices_type_id")], PricesTypes),
                r!(&[Field("contract_id")], Contracts),
            ],
            PriceGroups => &[
                r!(
                    &[Field("discounts"), Each, Field("contragent_id")],
                    Contragents
                ),
                r!(&[Field("discounts"), Each, Field("contract_id")], Contracts),
                r!(
                    &[Field("discounts"), Each, Field("category_id")],
                    CategoriesUsers
                ),
                r!(&[Field("discounts"), Each, Field("segment_id")], Segments),
            ],
            Remains => &[
                r!(&[Field("product_id")], Products),
                r!(&[Field("warehouse_id")], Warehouses),
            ],
            Finances => &[
                r!(&[Field("contragent_id")], Contragents),
                r!(&[Field("contract_id")], Contracts),
            ],
            Orders => &[
                r!(&[Field("customer_id")], Customers),
                r!(&[Field("contragent_id")], Contragents),
                r!(&[Field("contract_id")], Contracts),
                r!(&[Field("warehouse_id")], Warehouses),
                r!(&[Field("items"), Each, Field("product_id")], Products),
            ],
            Acts => &[
                r!(&[Field("contragent_id")], Contragents),
                r!(&[Field("contract_id")], Contracts),
            ],
        }
    }

    /// References from this type's records to attached files.
    pub fn attachments(self) -> &'static [Attachment] {
        use Step::{Each, Field};
        match self {
            DataType::Products => &[Attachment {
                path: &[Field("pictures"), Each],
                folder: AttachedFolder::Pictures,
            }],
            DataType::Categories | DataType::Managers => &[Attachment {
                path: &[Field("picture")],
                folder: AttachedFolder::Pictures,
            }],
            DataType::Orders => &[Attachment {
                path: &[Field("documents"), Each, Field("file")],
                folder: AttachedFolder::Invoices,
            }],
            DataType::Acts => &[Attachment {
                path: &[Field("file")],
                folder: AttachedFolder::Invoices,
            }],
            _ => &[],
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One step of a path inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An object member.
    Field(&'static str),
    /// Every element of an array.
    Each,
}

/// The object member a path starts with, if it starts with one.
pub fn first_field(path: &[Step]) -> Option<&'static str> {
    match path.first() {
        Some(Step::Field(name)) => Some(name),
        _ => None,
    }
}

/// A field that must name a record of `target`.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    pub path: &'static [Step],
    pub target: DataType,
}

/// A field that must name a file in one of the attached-file folders.
#[derive(Debug, Clone, Copy)]
pub struct Attachment {
    pub path: &'static [Step],
    pub folder: AttachedFolder,
}

/// The two folders of attached files (spec section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttachedFolder {
    Pictures,
    Invoices,
}

impl AttachedFolder {
    pub const ALL: [AttachedFolder; 2] = [AttachedFolder::Pictures, AttachedFolder::Invoices];

    pub fn name(self) -> &'static str {
        match self {
            AttachedFolder::Pictures => "pictures",
            AttachedFolder::Invoices => "invoices",
        }
    }

    pub fn from_name(name: &str) -> Option<AttachedFolder> {
        AttachedFolder::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Allowed extensions, lower case.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            AttachedFolder::Pictures => &["jpg", "jpeg", "png", "webp", "gif"],
            AttachedFolder::Invoices => &["pdf", "xml", "xlsx", "xls", "docx", "doc", "zip"],
        }
    }

    /// Default size limit in bytes.
    pub fn default_max_size(self) -> u64 {
        match self {
            AttachedFolder::Pictures => 20 << 20,
            AttachedFolder::Invoices => 50 << 20,
        }
    }
}

impl fmt::Display for AttachedFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a data file is a full snapshot or a delta.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `<type>.json`: what is not listed no longer exists.
    Snapshot,
    /// `<type>.delta.json`, `<type>.delta-<label>.json` (outbox) or `<type>.<label>.json` (out/).
    Delta { label: Option<String> },
}

/// A data file name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFileName {
    pub data_type: DataType,
    pub kind: FileKind,
}

/// Which side wrote a file: naming rules differ (spec section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The ERP's outbox / the portal's `in/`.
    Outbound,
    /// The portal's `out/`: always deltas, optionally labelled `<type>.<label>.json`.
    Inbound,
}

fn valid_label(label: &str) -> bool {
    (1..=64).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DataFileName {
    /// Parses a data file name. `None` when it is not a data file name of that side.
    pub fn parse(name: &str, side: Side) -> Option<DataFileName> {
        let stem = name.strip_suffix(".json")?;
        let (type_part, rest) = match stem.split_once('.') {
            Some((t, r)) => (t, Some(r)),
            None => (stem, None),
        };
        let data_type = DataType::from_name(type_part)?;
        let kind = match (side, rest) {
            (Side::Outbound, None) => FileKind::Snapshot,
            (Side::Outbound, Some("delta")) => FileKind::Delta { label: None },
            (Side::Outbound, Some(r)) => {
                let label = r.strip_prefix("delta-")?;
                if !valid_label(label) {
                    return None;
                }
                FileKind::Delta {
                    label: Some(label.to_string()),
                }
            }
            (Side::Inbound, None) => FileKind::Delta { label: None },
            (Side::Inbound, Some(label)) => {
                if !valid_label(label) {
                    return None;
                }
                FileKind::Delta {
                    label: Some(label.to_string()),
                }
            }
        };
        Some(DataFileName { data_type, kind })
    }

    pub fn is_snapshot(&self) -> bool {
        self.kind == FileKind::Snapshot
    }
}

/// Names that writers use while a file is still being written (spec 3.1).
pub fn is_temporary_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('~')
        || [".tmp", ".part", ".partial", ".crdownload"]
            .iter()
            .any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for t in DataType::ALL {
            assert_eq!(DataType::from_name(t.name()), Some(t));
        }
        assert_eq!(DataType::from_name("categoriesusers"), None);
        assert_eq!(DataType::from_name("Products"), None);
    }

    #[test]
    fn file_names_by_side() {
        let p = DataFileName::parse("products.json", Side::Outbound).unwrap();
        assert!(p.is_snapshot());
        let d = DataFileName::parse("prices.delta-2026_11.json", Side::Outbound).unwrap();
        assert_eq!(
            d.kind,
            FileKind::Delta {
                label: Some("2026_11".into())
            }
        );
        assert!(DataFileName::parse("prices.delta-.json", Side::Outbound).is_none());
        assert!(DataFileName::parse("prices.full.json", Side::Outbound).is_none());
        let o = DataFileName::parse("orders.20261122T093000.json", Side::Inbound).unwrap();
        assert_eq!(o.data_type, DataType::Orders);
        assert!(!o.is_snapshot());
        assert!(!DataFileName::parse("orders.json", Side::Inbound)
            .unwrap()
            .is_snapshot());
    }

    #[test]
    fn temporary_names() {
        for n in [
            ".x.json",
            "~x.json",
            "x.json.tmp",
            "a.part",
            "a.partial",
            "a.crdownload",
        ] {
            assert!(is_temporary_name(n), "{n}");
        }
        assert!(!is_temporary_name("products.json"));
    }

    #[test]
    fn publishing_order_puts_targets_first() {
        for t in DataType::ALL {
            for r in t.references() {
                if t != DataType::PriceGroups && r.target != t {
                    assert!(r.target.rank() < t.rank(), "{t} -> {}", r.target);
                }
            }
        }
    }
}
