//! Every refusal and referral the engine's services produce, and the proof that each is a
//! branch of the catalog (issue 30 item 6).
//!
//! A service's module lists the outcomes it can produce as an enum made by [`outcomes!`]:
//! each variant names the branch it is (its `id` in the catalog), the branch's kind, the
//! version(s) and process(es) and the steps where the engine produces it. The macro makes
//! the list of all variants from the same declaration, so a variant cannot be left out of
//! the check. [`check_outcomes`] (run by `drn catalog check` and when the engine starts)
//! finds each in the catalog: a branch with that `id` and kind at each of those steps,
//! with a citation of the seed that states it or marked as an assumption with its reason
//! (`stated = false`, `assumption = "…"`).

use drn_core::catalog::BranchKind;
use drn_core::Catalog;

/// Where an outcome is a branch of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeAt {
    pub service: &'static str,
    /// The versions (ids) where the engine produces it; empty: every version.
    pub versions: &'static [&'static str],
    /// The process (id) where the engine produces it; `None`: every process of the version.
    pub process: Option<&'static str>,
    /// The steps where the engine produces it.
    pub steps: &'static [u32],
    /// The branch's `id` in the catalog.
    pub id: &'static str,
    pub kind: BranchKind,
}

/// Declares a service's outcomes: an enum, its `ALL`, and where each is in the catalog.
macro_rules! outcomes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident in $service:tt {
            $(
                $(#[$vmeta:meta])*
                $v:ident => $kind:ident $id:literal at [$($step:literal),+ $(,)?]
                    $(versions [$($ver:literal),*])? $(process $proc:literal)?
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($(#[$vmeta])* $v),+
        }

        impl $name {
            /// Every outcome of the service.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// Where it is in the catalog.
            pub fn at(self) -> $crate::services::outcomes::OutcomeAt {
                match self {
                    $($name::$v => $crate::services::outcomes::OutcomeAt {
                        service: $service,
                        versions: &[$($($ver),*)?],
                        process: None $(.or(Some($proc)))?,
                        steps: &[$($step),+],
                        id: $id,
                        kind: drn_core::catalog::BranchKind::$kind,
                    }),+
                }
            }

            /// The catalog branch's id.
            pub fn branch_id(self) -> &'static str {
                self.at().id
            }
        }
    };
}
pub(crate) use outcomes;

/// Proves that every outcome the engine's services produce
/// ([`produced_outcomes`](super::produced_outcomes)) is a branch of `catalog`: at each of
/// its steps, in each of its versions and processes, a branch of its kind with its `id`,
/// with a citation or a marked assumption. Returns how many (outcome, step) pairs were
/// found, or every one that was not.
pub fn check_outcomes(catalog: &Catalog) -> Result<usize, Vec<String>> {
    check(catalog, &super::produced_outcomes())
}

fn check(catalog: &Catalog, produced: &[OutcomeAt]) -> Result<usize, Vec<String>> {
    let mut errors = Vec::new();
    let mut found = 0;
    for o in produced.iter().copied() {
        let Some(svc) = catalog.service(o.service) else {
            errors.push(format!(
                "{}: no such service for outcome {}",
                o.service, o.id
            ));
            continue;
        };
        let versions: Vec<_> = svc
            .versions
            .iter()
            .filter(|v| o.versions.is_empty() || o.versions.contains(&v.id.as_str()))
            .collect();
        if versions.len() < o.versions.len().max(1) {
            errors.push(format!(
                "{}: outcome {} names versions {:?}, not all in the catalog",
                o.service, o.id, o.versions
            ));
        }
        for v in versions {
            let processes: Vec<_> = v
                .processes
                .iter()
                .filter(|p| o.process.is_none_or(|id| p.id == id))
                .collect();
            if processes.is_empty() {
                errors.push(format!(
                    "{} {}: outcome {} names process {:?}, which the version does not have",
                    o.service, v.id, o.id, o.process
                ));
            }
            for p in processes {
                for n in o.steps {
                    let branch = p.step(*n).and_then(|s| {
                        s.branches
                            .iter()
                            .find(|b| b.id.as_deref() == Some(o.id) && b.kind == o.kind)
                    });
                    match branch {
                        Some(b) if b.grounded() => found += 1,
                        Some(_) => errors.push(format!(
                            "{} {} {} step {n}: branch {} has neither a citation nor a marked assumption",
                            o.service, v.id, p.id, o.id
                        )),
                        None => errors.push(format!(
                            "{} {} {} step {n}: the engine produces {:?} {}, which is not a branch of this step",
                            o.service, v.id, p.id, o.kind, o.id
                        )),
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog");
        crate::catalog_files::load(std::path::Path::new(dir))
            .unwrap()
            .0
    }

    /// Every outcome the engine produces is a grounded branch of the catalog.
    #[test]
    fn every_outcome_is_a_branch_of_the_catalog() {
        let n = check_outcomes(&catalog()).unwrap_or_else(|e| panic!("{}", e.join("\n")));
        assert!(n > 0);
    }

    /// A branch the engine produces, removed from the catalog, fails the check; so does
    /// one that loses its citation.
    #[test]
    fn a_missing_or_ungrounded_branch_fails_the_check() {
        let mut cat = catalog();
        let s1e = cat.services.get_mut("S1E").unwrap();
        let step = s1e.versions[0].processes[0]
            .steps
            .iter_mut()
            .find(|s| s.n == 4)
            .unwrap();
        step.branches
            .retain(|b| b.id.as_deref() != Some("incapable"));
        let e = check_outcomes(&cat).unwrap_err().join("\n");
        assert!(e.contains("step 4") && e.contains("incapable"), "{e}");
        let mut cat = catalog();
        let s1e = cat.services.get_mut("S1E").unwrap();
        for b in s1e.versions[0].processes[0]
            .steps
            .iter_mut()
            .flat_map(|s| s.branches.iter_mut())
        {
            if b.id.as_deref() == Some("civil_status_change") {
                b.cite = None;
            }
        }
        let e = check_outcomes(&cat).unwrap_err().join("\n");
        assert!(e.contains("neither a citation"), "{e}");
    }
}
