//! Finding and reading the catalog on disk (the core itself does no I/O).

use std::path::{Path, PathBuf};

use drn_core::{Calendar, Catalog, CatalogError};

/// Where the catalog lives: `--catalog`, else `$DRN_CATALOG`, else `./catalog`, else the
/// catalog of the source tree this crate was built from.
pub fn catalog_dir(arg: Option<&Path>) -> PathBuf {
    if let Some(p) = arg {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("DRN_CATALOG") {
        return PathBuf::from(p);
    }
    let local = PathBuf::from("catalog");
    if local.join("services").is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog")
}

fn io_err(path: &Path, e: std::io::Error) -> CatalogError {
    CatalogError {
        file: Some(path.display().to_string()),
        line: None,
        message: e.to_string(),
    }
}

/// Reads every `services/*.toml` and validates the catalog.
pub fn load_catalog(dir: &Path) -> Result<Catalog, Vec<CatalogError>> {
    let sdir = dir.join("services");
    let mut files = Vec::new();
    let entries = std::fs::read_dir(&sdir).map_err(|e| vec![io_err(&sdir, e)])?;
    for entry in entries {
        let entry = entry.map_err(|e| vec![io_err(&sdir, e)])?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| vec![io_err(&path, e)])?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    let mut cat = Catalog::from_sources(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))?;
    // The state duty's data (issue 30 item 7), when the catalog has them.
    let duty = dir.join("duty/kz.toml");
    if duty.is_file() {
        let text = std::fs::read_to_string(&duty).map_err(|e| vec![io_err(&duty, e)])?;
        cat.duty = Some(drn_core::duty::DutyTable::from_toml(&text).map_err(|e| {
            vec![CatalogError {
                file: Some(duty.display().to_string()),
                line: None,
                message: e.to_string(),
            }]
        })?);
    }
    Ok(cat)
}

/// Reads `calendar/kz.toml`.
pub fn load_calendar(dir: &Path) -> Result<Calendar, CatalogError> {
    let path = dir.join("calendar/kz.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    Calendar::from_toml(&text).map_err(|e| CatalogError {
        file: Some(path.display().to_string()),
        line: None,
        message: e.to_string(),
    })
}

/// Loads the catalog and the calendar from one directory.
pub fn load(dir: &Path) -> Result<(Catalog, Calendar), Vec<CatalogError>> {
    let cat = load_catalog(dir)?;
    let cal = load_calendar(dir).map_err(|e| vec![e])?;
    Ok((cat, cal))
}
