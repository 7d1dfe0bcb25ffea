//! `managers.post`: one line per manager.

use super::*;

pub(super) const BUILDER: Builder = Builder {
    writes: &[Endpoint::Managers],
    build: |run, _| run.read_managers(),
};

impl Run<'_> {
    pub(super) fn read_managers(&mut self) -> Result<(), ProdlyError> {
        const E: &str = "managers.post";
        self.read_type(DataType::Managers, |run, Part { file, .. }, mut s| {
            let code = s.req_str(&["id"], E, "code");
            let fio = s.req_str(&["name"], E, "fio");
            let phone = s.req_str(&["phone"], E, "phone");
            // COMPO's `active` defaults to true, as for clients.
            let active = s.bool(&["active"]).unwrap_or(true);
            if run.settle(file, &mut s) {
                // The seed recommends a personal tag holding the agent's code.
                run.write(
                    Endpoint::Managers,
                    json!({"code": code, "fio": fio, "phone": phone, "active": active,
                           "tags": [code]}),
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
