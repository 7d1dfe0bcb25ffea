//! Reference data every builder may need (contracts, customer categories), read first; the
//! supplier's firms named by contracts go to `firms.post`.

use super::*;

#[derive(Default)]
pub(super) struct Contracts {
    pub(super) by_id: HashMap<String, Contract>,
    /// Contragent → its default contract: the one marked `is_default`, else its only one.
    pub(super) default: HashMap<String, DefaultContract>,
}

pub(super) struct Contract {
    pub(super) contragent: String,
    pub(super) organization: Option<String>,
}

pub(super) struct DefaultContract {
    pub(super) explicit: bool,
    pub(super) count: u32,
    pub(super) prices_type: Option<String>,
    pub(super) currency: Option<String>,
}

impl Contracts {
    pub(super) fn default_for(&self, contragent: &str) -> Option<&DefaultContract> {
        self.default
            .get(contragent)
            .filter(|d| d.explicit || d.count == 1)
    }
}

impl Run<'_> {
    pub(super) fn read_categories_users(&mut self) -> Result<HashMap<String, String>, ProdlyError> {
        let mut map = HashMap::new();
        self.read_type(DataType::CategoriesUsers, |_, _, mut s| {
            if let (Some(id), Some(pt)) = (s.str(&["id"]), s.str(&["prices_type_id"])) {
                map.insert(id.to_string(), pt.to_string());
            }
            Ok(())
        })?;
        Ok(map)
    }

    /// Indexes contracts (for personal prices, client price rows and debts) and writes the
    /// supplier's firms named by `organization`.
    pub(super) fn read_contracts(&mut self) -> Result<Contracts, ProdlyError> {
        let mut contracts = Contracts::default();
        let mut firms_seen: HashSet<String> = HashSet::new();
        self.read_type(DataType::Contracts, |run, Part { file, .. }, mut s| {
            let id = s.str(&["id"]);
            let ca = s.str(&["contragent_id"]);
            let organization = run.firm(&mut s, &mut firms_seen)?;
            let pt = s.str(&["prices_type_id"]).map(str::to_string);
            let currency = s.str(&["currency"]).map(str::to_string);
            let is_default = s.bool(&["is_default"]) == Some(true);
            run.settle(file, &mut s);
            let (Some(id), Some(ca)) = (id, ca) else {
                return Ok(());
            };
            contracts.by_id.insert(
                id.to_string(),
                Contract {
                    contragent: ca.to_string(),
                    organization,
                },
            );
            let d = contracts
                .default
                .entry(ca.to_string())
                .or_insert(DefaultContract {
                    explicit: false,
                    count: 0,
                    prices_type: None,
                    currency: None,
                });
            d.count += 1;
            if !d.explicit && (is_default || d.count == 1) {
                d.explicit = is_default;
                d.prices_type = pt;
                d.currency = currency;
            }
            Ok(())
        })?;
        Ok(contracts)
    }

    /// The firm named by a contract's `organization`; writes the firm the first time it is seen.
    /// COMPO's `organization` is only the firm's name, so the INN, address and `active` that
    /// Prodly requires come from the project field `prodly_firm` (unknown fields are allowed,
    /// spec section 4); without it the firm is reported once and not sent.
    pub(super) fn firm(
        &mut self,
        s: &mut Src<'_>,
        seen: &mut HashSet<String>,
    ) -> Result<Option<String>, ProdlyError> {
        const E: &str = "firms.post";
        let Some(code) = s.str(&["organization"]).map(str::to_string) else {
            return Ok(None);
        };
        if !seen.insert(code.clone()) {
            return Ok(Some(code));
        }
        let before = s.issues.len();
        let d = |f: &'static str| -> [&'static str; 2] { ["prodly_firm", f] };
        let title = s.str(&d("title")).unwrap_or(&code).to_string();
        let full_name = s.str(&d("full_name"));
        let inn = s.req_str(&d("inn"), E, "inn");
        let kpp = s.str(&d("kpp"));
        let active = s.req_bool(&d("active"), E, "active");
        let address = s.req_str(&d("address"), E, "address");
        let ogrn = s.str(&d("ogrn"));
        if s.issues.len() == before {
            let mut line = Map::new();
            line.insert("code".into(), code.clone().into());
            push_opt(&mut line, "fullName", full_name);
            push_opt(&mut line, "inn", inn);
            push_opt(&mut line, "kpp", kpp);
            push_opt(&mut line, "active", active);
            push_opt(&mut line, "address", address);
            push_opt(&mut line, "ogrn", ogrn);
            line.insert("title".into(), title.into());
            self.write(Endpoint::Firms, Value::Object(line))?;
        }
        Ok(Some(code))
    }
}
