//! The client endpoints: `clients.post` and `debts.post`, from contragents, customers and
//! finances grouped by contragent on disk.

use super::*;

pub(super) const BUILDER: Builder = Builder {
    writes: &[Endpoint::Clients, Endpoint::Debts],
    build,
};

fn build(run: &mut Run<'_>, sh: &Shared<'_>) -> Result<(), ProdlyError> {
    run.client_join(sh.spill, sh.budget, &sh.contracts, &sh.categories_users)
}

/// A row of the by-contragent grouping.
#[derive(Serialize, Deserialize)]
pub(super) enum ClientRow {
    C {
        line: Map<String, Value>,
        manager: Option<String>,
        tags: Vec<String>,
        stop: Option<bool>,
        price: Option<String>,
        currency: Option<String>,
    },
    /// What a portal user adds to each of its contragents.
    U {
        tags: Vec<String>,
        manager: Option<String>,
    },
    F {
        f: usize,
        r: u64,
        currency: Option<String>,
        balance: Option<f64>,
        overdue: Option<f64>,
        docs: Option<Vec<Map<String, Value>>>,
    },
}

impl Run<'_> {
    pub(super) fn client_join(
        &mut self,
        dir: &Path,
        budget: u64,
        contracts: &Contracts,
        categories_users: &HashMap<String, String>,
    ) -> Result<(), ProdlyError> {
        let types = [
            DataType::Contragents,
            DataType::Customers,
            DataType::Finances,
        ];
        let parts = partitions_for(self.size(&types), budget);
        let mut g = Grouper::<ClientRow>::new(dir, "clients", parts)?;
        self.read_type(DataType::Contragents, |run, part, s| {
            run.contragent(part.file, s, contracts, categories_users, &mut g)
        })?;
        self.read_type(DataType::Customers, |run, Part { file, .. }, mut s| {
            let ids = s.str_list(&["contragent_ids"]);
            let mut tags = s.str_list(&["segment_ids"]);
            tags.extend(s.str(&["category_id"]).map(str::to_string));
            let manager = s.str(&["manager_id"]).map(str::to_string);
            if run.settle(file, &mut s) {
                for id in ids {
                    let row = ClientRow::U {
                        tags: tags.clone(),
                        manager: manager.clone(),
                    };
                    g.add(&id, &row)?;
                }
            }
            Ok(())
        })?;
        self.read_type(DataType::Finances, |run, part, s| {
            run.finance(part.file, s, contracts, &mut g)
        })?;
        g.for_each_group(|code, rows| self.client_group(code, rows))
    }

    pub(super) fn contragent(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        contracts: &Contracts,
        categories_users: &HashMap<String, String>,
        g: &mut Grouper<ClientRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "clients.post";
        let mut line = Map::new();
        let code = s.req_str(&["id"], E, "code");
        push_opt(&mut line, "code", code);
        push_opt(&mut line, "name", s.req_str(&["name"], E, "name"));
        push_opt(&mut line, "inn", s.req_str(&["inn"], E, "inn"));
        push_opt(&mut line, "kpp", s.str(&["kpp"]));
        push_opt(&mut line, "ogrn", s.str(&["ogrn"]));
        line.insert("branch".into(), self.opts.branch.clone().into());
        push_opt(&mut line, "address", s.str(&["legal_address"]));
        // Addresses may be plain strings or objects with an `address` member.
        let logistic = match s.array(&["delivery_addresses"]).and_then(|a| a.first()) {
            Some(Value::String(a)) if !a.trim().is_empty() => Some(a.clone()),
            Some(Value::Object(o)) => o.get("address").and_then(Value::as_str).map(String::from),
            _ => None,
        };
        // Without a delivery address goods go to the legal address: sent, and said.
        let logistic = match (logistic, s.str(&["legal_address"])) {
            (Some(a), _) => Some(a),
            (None, Some(legal)) if !legal.trim().is_empty() => {
                s.warn(
                    &["delivery_addresses"],
                    codes::CONVERT_REQUIRED,
                    format!(
                        "clients.post requires logisticAddress; record {} has no delivery \
                         address, so its legal_address was sent",
                        s.label()
                    ),
                );
                Some(legal.to_string())
            }
            (None, _) => {
                s.missing(&["delivery_addresses", "0"], E, "logisticAddress");
                None
            }
        };
        push_opt(&mut line, "logisticAddress", logistic);
        // COMPO's `active` defaults to true; a mistyped one was reported by `bool`.
        let active_mistyped = s.get(&["active"]).is_some_and(|v| !v.is_boolean());
        let active = s.bool(&["active"]).unwrap_or(true);
        if !active_mistyped {
            line.insert("active".into(), active.into());
        }
        let manager = s.str(&["manager_id"]).map(str::to_string);
        let segment = s.str(&["segment_id"]).map(str::to_string);
        let category = s.str(&["category_id"]).map(str::to_string);
        let stop = s.bool(&["stop"]);
        let default = code.and_then(|c| contracts.default_for(c));
        let price = default.and_then(|d| d.prices_type.clone()).or_else(|| {
            category
                .as_ref()
                .and_then(|c| categories_users.get(c).cloned())
        });
        let currency = default.and_then(|d| d.currency.clone());
        if self.settle(file, &mut s) {
            let row = ClientRow::C {
                line,
                manager,
                tags: segment.into_iter().chain(category).collect(),
                stop,
                price,
                currency,
            };
            g.add(code.expect("checked by settle"), &row)?;
        }
        Ok(())
    }

    pub(super) fn finance(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        contracts: &Contracts,
        g: &mut Grouper<ClientRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "debts.post";
        let ca = s.req_str(&["contragent_id"], E, "clientCode");
        let firm = s
            .str(&["contract_id"])
            .and_then(|c| contracts.by_id.get(c))
            .and_then(|c| c.organization.clone());
        let currency = s.str(&["currency"]).map(str::to_string);
        let balance = s.num(&["balance"]).map(|n| f(&n));
        let overdue = s.num(&["overdue_debt"]).map(|n| f(&n));
        let docs = match s.array(&["documents"]) {
            None => None,
            Some(items) => {
                let mut docs = Vec::new();
                for (i, d) in items.iter().enumerate() {
                    let Some(d) = d.as_object() else {
                        s.wrong_type(&["documents", &i.to_string()], "an object");
                        continue;
                    };
                    let mut doc = Map::new();
                    push_opt(&mut doc, "firmCode", firm.clone());
                    for (from, to) in [
                        ("id", "docId"),
                        ("kind", "docType"),
                        ("number", "docNumber"),
                        ("date", "docDate"),
                        ("amount", "summa"),
                        ("debt", "debet"),
                        ("due_date", "payUntill"),
                    ] {
                        if let Some(v) = d.get(from).filter(|v| !v.is_null()) {
                            let numeric = matches!(to, "summa" | "debet");
                            if numeric != v.is_number() || (!numeric && !v.is_string()) {
                                let idx = i.to_string();
                                let what = if numeric { "a number" } else { "a string" };
                                s.wrong_type(&["documents", &idx, from], what);
                                continue;
                            }
                            doc.insert(to.into(), v.clone());
                        }
                    }
                    docs.push(doc);
                }
                Some(docs)
            }
        };
        if self.settle(file, &mut s) {
            let row = ClientRow::F {
                f: file,
                r: s.index,
                currency,
                balance,
                overdue,
                docs,
            };
            g.add(ca.expect("checked by settle"), &row)?;
        }
        Ok(())
    }

    pub(super) fn client_group(
        &mut self,
        code: String,
        rows: Vec<ClientRow>,
    ) -> Result<(), ProdlyError> {
        let mut tags = Vec::new();
        let mut managers = Vec::new();
        let mut currency: Option<String> = None;
        let mut mixed = false;
        let (mut balance, mut overdue) = (None::<f64>, None::<f64>);
        let mut documents: Option<Vec<Map<String, Value>>> = None;
        let mut client = None;
        for row in &rows {
            match row {
                ClientRow::C {
                    tags: t, manager, ..
                } => {
                    client = Some(row);
                    managers.extend(manager.clone());
                    tags.extend(t.iter().cloned());
                }
                ClientRow::U { tags: t, manager } => {
                    managers.extend(manager.clone());
                    tags.extend(t.iter().cloned());
                }
                ClientRow::F {
                    f: file,
                    r,
                    currency: c,
                    balance: b,
                    overdue: o,
                    docs,
                } => {
                    match (&currency, c) {
                        (Some(have), Some(c)) if have != c => {
                            mixed = true;
                            self.reports.warning(
                                *file,
                                Issue::new(
                                    Some(*r),
                                    format!("/{r}/currency"),
                                    codes::CONVERT_VALUE,
                                    format!(
                                        "contragent \"{code}\" has finances in {have} and {c}; \
                                         Prodly keeps one balance per client, so balance and debt \
                                         were not sent"
                                    ),
                                ),
                            );
                        }
                        (None, Some(c)) => currency = Some(c.clone()),
                        _ => {}
                    }
                    if let Some(b) = b {
                        *balance.get_or_insert(0.0) += b;
                    }
                    if let Some(o) = o {
                        *overdue.get_or_insert(0.0) += o;
                    }
                    if let Some(d) = docs {
                        documents.get_or_insert_with(Vec::new).extend(d.clone());
                    }
                }
            }
        }
        let managers = dedup(managers);
        let agent = match client {
            Some(ClientRow::C { manager, .. }) => manager.clone(),
            _ => None,
        };
        if let Some(ClientRow::C {
            line,
            stop,
            price,
            currency: contract_currency,
            ..
        }) = client
        {
            let mut props = Vec::new();
            let mut prop = |k: &str, v: Value| props.push(json!({"key": k, "value": v}));
            if let Some(p) = price {
                prop("price", p.clone().into());
            }
            let currency = if mixed {
                None
            } else {
                currency.clone().or_else(|| contract_currency.clone())
            };
            if let Some(c) = currency {
                prop("currency", c.into());
            }
            if !managers.is_empty() {
                prop("managers", managers.clone().into());
            }
            if let Some(s) = stop {
                prop("stop", (*s).into());
            }
            if !mixed {
                if let Some(o) = overdue {
                    prop("debt", number(o));
                }
                if let Some(b) = balance {
                    prop("balance", number(b));
                }
            }
            let mut line = line.clone();
            line.insert("properties".into(), props.into());
            line.insert("tags".into(), dedup(tags).into());
            self.write(Endpoint::Clients, Value::Object(line))?;
        }
        if let Some(docs) = documents {
            let docs: Vec<Value> = docs
                .into_iter()
                .map(|d| {
                    // agentCode sits after firmCode, as in the seed's sample.
                    let mut out = Map::new();
                    let mut rest = d.into_iter().peekable();
                    if let Some((k, v)) = rest.next_if(|(k, _)| k == "firmCode") {
                        out.insert(k, v);
                    }
                    push_opt(&mut out, "agentCode", agent.clone());
                    out.extend(rest);
                    Value::Object(out)
                })
                .collect();
            self.write(
                Endpoint::Debts,
                json!({"clientCode": code, "documents": docs}),
            )?;
        }
        Ok(())
    }
}
