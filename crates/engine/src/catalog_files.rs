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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30 item 7: the state duty's amounts are the catalog's data
    /// (`duty/kz.toml`: the Tax Code's 0.2 МРП for an ID card, the МРП of each year), which
    /// an administrator updates; seed 001 п. 3 step 15 («Оплата государственной пошлины за
    /// услугу») states no amount.
    #[test]
    fn the_duty_is_the_catalogs_data() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog");
        let cat = load_catalog(&dir).unwrap();
        let duty = cat.duty.as_ref().unwrap();
        let day = jiff::civil::date(2025, 11, 20);
        assert_eq!(duty.mrp(2025), Some(3932));
        assert_eq!(duty.duty("id_card", day), Some(786));
        assert!(duty.rate("id_card", day).unwrap().cite.contains("Tax Code"));
        // A new year's МРП is a line of data.
        let text = std::fs::read_to_string(dir.join("duty/kz.toml")).unwrap();
        let more =
            format!("{text}\n[[mrp]]\nyear = 2027\ntenge = 4500\ncite = \"budget law for 2027\"\n");
        let t = drn_core::duty::DutyTable::from_toml(&more).unwrap();
        assert_eq!(t.duty("id_card", jiff::civil::date(2027, 2, 1)), Some(900));
    }
}
