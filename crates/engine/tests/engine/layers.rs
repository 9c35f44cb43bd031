//! The shape of the engine's source (issue 27): its files import each other without a
//! circle, and outside `src/services/` no service code decides behaviour.
//!
//! A file's imports are the engine modules it names by path (`crate::x`, `super::x`).
//! The crate root is left out: it holds the `Engine` handle that every part adds methods
//! to, so every file names it and it names the parts it is built of.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `services::s1e` for `services/s1e/mod.rs`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The file's text without its unit tests (they may use anything).
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The engine modules a file names: the longest module prefix of each `crate::a::b…`
/// path, and the parent of a module that names `super::`.
fn imports(module: &str, code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (i, _) in code.match_indices("crate::") {
        let path: String = code[i + 7..].chars().take_while(|c| ident(*c)).collect();
        let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        for k in (1..=parts.len()).rev() {
            let candidate = parts[..k].join("::");
            if modules.contains(&candidate) {
                out.insert(candidate);
                break;
            }
        }
    }
    if code.contains("super::") {
        if let Some((parent, _)) = module.rsplit_once("::") {
            out.insert(parent.to_string());
            for (i, _) in code.match_indices("super::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let sibling = format!("{parent}::{name}");
                if modules.contains(&sibling) {
                    out.insert(sibling);
                }
            }
        }
    }
    out.remove(module);
    out.remove("lib");
    out
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g[v].iter().filter(|w| t.g.contains_key(*w)) {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    files
        .iter()
        .map(|f| {
            let m = module_of(f);
            let i = imports(&m, &code_of(f), &modules);
            (m, i)
        })
        .collect()
}

#[test]
fn the_engine_files_import_each_other_without_a_circle() {
    let g = graph();
    assert!(g.len() > 20, "the engine's files were found: {g:?}");
    assert!(
        g["commands"].contains("tx"),
        "imports are read: {:?}",
        g["commands"]
    );
    assert_eq!(circles(&g), Vec::<Vec<String>>::new());
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(circles(&g), vec![vec!["a", "b", "c"]]);
}

/// Outside `services/` (and the catalog loader), no service code such as `"S9"` appears
/// in the engine's or the server's code: a service's behaviour is asked of its module.
#[test]
fn no_service_code_decides_behaviour_outside_the_services() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    rust_files(&src().join("../../server/src"), &mut files);
    let services = src().join("services");
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&services)) {
        let code = code_of(f);
        for (n, line) in code.lines().enumerate() {
            // An example in the API's documentation is not behaviour.
            if line.contains("example") {
                continue;
            }
            let quoted = line.match_indices("\"S").any(|(i, _)| {
                let rest = &line[i + 2..];
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                !digits.is_empty() && {
                    let after = &rest[digits.len()..];
                    after.starts_with('"') || after.starts_with("E\"")
                }
            });
            if quoted {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "service codes outside services/: {found:#?}"
    );
}

/// The server holds no SQL: each read it needs is a named engine method.
#[test]
fn the_server_holds_no_sql() {
    let mut files = Vec::new();
    rust_files(&src().join("../../server/src"), &mut files);
    assert!(files.len() > 10, "the server's files were found");
    let sql = [
        "SELECT ",
        "INSERT INTO",
        "UPDATE ",
        "DELETE FROM",
        "ON CONFLICT",
    ];
    let found: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let code = code_of(f);
            code.lines()
                .enumerate()
                .filter(|(_, l)| sql.iter().any(|s| l.contains(s)) && l.contains('"'))
                .map(|(n, l)| format!("{}:{}: {}", f.display(), n + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(found.is_empty(), "SQL in the server: {found:#?}");
}
