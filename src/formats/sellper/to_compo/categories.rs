//! Category lists and single categories: Sellper's category paths become a COMPO tree.

use super::*;

pub(super) const KINDS: &[Kind] = &[
    Kind {
        root: "categories",
        array: false,
        how: How::Stream(category_list),
    },
    Kind {
        root: "category",
        array: false,
        how: How::Single(one_category),
    },
];

/// The whole list is held: the tree needs every path.
fn category_list(c: &mut Conv, cur: &mut XmlCursor, root: Start) -> Result<(), Stop> {
    c.snapshot = true;
    c.out.ensure(DataType::Categories, true)?;
    cur.descend(&root);
    let mut cats = Vec::new();
    stream(c, cur, "category", "categories", |c, n, rec| {
        if let Some(cat) = category(c, n, Some(rec)) {
            cats.push(cat);
        }
        Ok(())
    })?;
    emit_categories(c, cats)
}

fn one_category(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    let cats = category(c, n, Some(0)).into_iter().collect();
    emit_categories(c, cats)
}

pub(super) struct Cat {
    id: String,
    path: Vec<String>,
}

pub(super) fn category(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Cat> {
    c.unknown_children(n, rec, &["name", "created"]);
    let id = c.required_id(n, n.attr_value("id"), rec, "category");
    let path: Vec<String> = n
        .text_of("name")
        .unwrap_or("")
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if path.is_empty() {
        c.required(rec, &n.pointer_of("name"), "the category has no name");
    }
    Some(Cat {
        id: id?.to_string(),
        path: (!path.is_empty()).then_some(path)?,
    })
}

/// The id given to a level of a category path that Sellper has no category record for.
pub(super) fn path_id(path: &[String]) -> String {
    let h = blake3::hash(path.join("/").as_bytes());
    format!("sellper-path-{}", &h.to_hex()[..16])
}

/// Sellper names a category by its whole path (`Одежда/Мужская/Сорочки`). Each level becomes a
/// category; a level with a category of its own in the same document gets that id, the others
/// an id derived from the path, so converting again gives the same ids.
pub(super) fn emit_categories(c: &mut Conv, cats: Vec<Cat>) -> Result<(), Stop> {
    let real: HashMap<Vec<String>, String> = cats
        .iter()
        .map(|k| (k.path.clone(), k.id.clone()))
        .collect();
    let id_of = |p: &[String]| real.get(p).cloned().unwrap_or_else(|| path_id(p));
    let mut synthetic: BTreeMap<(usize, Vec<String>), ()> = BTreeMap::new();
    for k in &cats {
        for depth in 1..k.path.len() {
            let prefix = &k.path[..depth];
            if !real.contains_key(prefix) {
                synthetic.insert((depth, prefix.to_vec()), ());
            }
        }
    }
    for (_, p) in synthetic.keys() {
        let mut m = Map::new();
        m.insert("id".into(), path_id(p).into());
        m.insert("name".into(), p[p.len() - 1].clone().into());
        if p.len() > 1 {
            m.insert("parent_id".into(), id_of(&p[..p.len() - 1]).into());
        }
        c.emit(DataType::Categories, Value::Object(m))?;
    }
    for k in &cats {
        let mut m = Map::new();
        m.insert("id".into(), k.id.clone().into());
        m.insert("name".into(), k.path[k.path.len() - 1].clone().into());
        if k.path.len() > 1 {
            m.insert(
                "parent_id".into(),
                id_of(&k.path[..k.path.len() - 1]).into(),
            );
        }
        c.emit(DataType::Categories, Value::Object(m))?;
    }
    Ok(())
}
