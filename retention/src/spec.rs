//! One way to build a [`Policy`] from what a front end gathered (flags, environment, an event,
//! the dashboard's dialog), and the rule for overlays that may only narrow it.

use crate::{
    DateSource, DeploymentId, Glob, MetaFallback, Policy, Retain, Rules, Span, DEFAULT_MAX_DELETE,
};

/// The policy options as given; unset fields take their defaults in [`PolicySpec::build`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySpec {
    pub retain: Option<u64>,
    pub min_retain_days: Option<u64>,
    pub keep_within: Option<Span>,
    pub pins: Vec<DeploymentId>,
    pub excludes: Vec<Glob>,
    pub date_source: Option<DateSource>,
    /// A `meta:` date absent or not a date: dated by this instead of kept as unknown.
    pub meta_fallback: Option<MetaFallback>,
    /// How long a deployment that stopped being live is kept (default 24 h).
    pub live_grace: Option<Span>,
    pub purge_versions: Option<bool>,
    pub max_delete: Option<u64>,
    /// Rules (a policy file): instead of `retain` and a minimum age.
    pub rules: Option<Rules>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error(
        "RETAIN and a minimum age cannot be given with a policy file: its rules say how many to \
         keep. Drop RETAIN (and --min-retain-days / --keep-within), or drop --policy"
    )]
    RulesAndRetain,
    #[error(
        "no RETAIN given: say how many of the newest deployments to keep (a whole number ≥ 1)"
    )]
    NoRetain,
    #[error("give either min_retain_days or keep_within, not both")]
    TwoMinimumAges,
    #[error(transparent)]
    Retain(#[from] crate::PolicyError),
}

/// An overlay that would make a policy delete more than the configured one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{field}' may only narrow the configured policy: {why}")]
pub struct Widening {
    pub field: &'static str,
    pub why: String,
}

impl From<&Policy> for PolicySpec {
    /// A built policy as a spec again (a saved plan's, to lay flags over it).
    fn from(p: &Policy) -> Self {
        let rules = p.rules.is_some();
        PolicySpec {
            retain: (!rules).then_some(p.retain.get()),
            min_retain_days: None,
            keep_within: if rules { None } else { p.keep_within },
            rules: p.rules.clone(),
            pins: p.pins.clone(),
            excludes: p.excludes.clone(),
            date_source: Some(p.date_source.clone()),
            meta_fallback: p.meta_fallback,
            live_grace: Some(p.live_grace),
            purge_versions: Some(p.purge_versions),
            max_delete: p.max_delete,
        }
    }
}

impl PolicySpec {
    /// The minimum age, from whichever of the two spellings was given.
    pub fn min_age(&self) -> Result<Option<Span>, SpecError> {
        match (self.min_retain_days, self.keep_within) {
            (Some(_), Some(_)) => Err(SpecError::TwoMinimumAges),
            (Some(d), None) => Ok(Some(Span::from_days(d))),
            (None, k) => Ok(k),
        }
    }

    pub fn build(&self) -> Result<Policy, SpecError> {
        let mut p = match &self.rules {
            Some(_) if self.retain.is_some() || self.min_age()?.is_some() => {
                return Err(SpecError::RulesAndRetain)
            }
            Some(rules) => Policy::with_rules(rules.clone()),
            None => {
                let mut p = Policy::new(Retain::new(self.retain.ok_or(SpecError::NoRetain)?)?);
                p.keep_within = self.min_age()?;
                p
            }
        };
        p.pins = dedup(&self.pins);
        p.excludes = dedup(&self.excludes);
        p.date_source = self.date_source.clone().unwrap_or_default();
        p.meta_fallback = self.meta_fallback;
        p.live_grace = self.live_grace.unwrap_or(crate::DEFAULT_LIVE_GRACE);
        p.purge_versions = self.purge_versions.unwrap_or(false);
        p.max_delete = Some(self.max_delete.unwrap_or(DEFAULT_MAX_DELETE));
        Ok(p)
    }

    /// `self` (the configured policy) with `over` laid on top, refusing anything in `over` that
    /// would delete more: a lower RETAIN or minimum age, a higher max-delete, another date source
    /// (not configured = the newest object's), purge-versions where it is not configured. Pins
    /// and excludes are added, never dropped; turning purging off is taken. A configured policy
    /// with two minimum ages takes no overlay.
    pub fn narrowed_by(&self, over: &PolicySpec) -> Result<PolicySpec, Widening> {
        let mut out = self.clone();
        self.narrow_rules(over)?;
        self.narrow_retain(over, &mut out)?;
        self.narrow_min_age(over, &mut out)?;
        self.narrow_dates(over, &mut out)?;
        self.narrow_deletion(over, &mut out)?;
        out.pins.extend(over.pins.iter().cloned());
        out.excludes.extend(over.excludes.iter().cloned());
        Ok(out)
    }

    /// Rules are all or nothing: another set could delete anything, and under rules RETAIN
    /// and a minimum age do not apply.
    fn narrow_rules(&self, over: &PolicySpec) -> Result<(), Widening> {
        match (&self.rules, &over.rules) {
            (base, Some(r)) if base.as_ref() != Some(r) => widen(
                "rules",
                "a policy file other than the configured one may delete more".into(),
            ),
            (Some(_), None) if over.retain.is_some() || over.min_age().ok().flatten().is_some() => {
                widen(
                    "retain",
                    "the configured policy is a set of rules: RETAIN and a minimum age do not apply"
                        .into(),
                )
            }
            _ => Ok(()),
        }
    }

    /// A higher RETAIN narrows; a lower one widens.
    fn narrow_retain(&self, over: &PolicySpec, out: &mut PolicySpec) -> Result<(), Widening> {
        match (self.retain, over.retain) {
            (Some(base), Some(r)) if r < base => widen(
                "retain",
                format!("{r} keeps fewer than the configured {base}"),
            ),
            (_, Some(r)) => {
                out.retain = Some(r);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A longer minimum age narrows; a shorter one widens.
    fn narrow_min_age(&self, over: &PolicySpec, out: &mut PolicySpec) -> Result<(), Widening> {
        // A configured policy with two minimum ages is refused whatever the overlay says: laid
        // over both, the overlay's own age would replace a broken policy with a shorter one.
        let base_age = self.min_age().map_err(|e| Widening {
            field: "min_retain_days",
            why: format!("the configured policy is not valid: {e}"),
        })?;
        let over_age = over.min_age().map_err(|e| Widening {
            field: "min_retain_days",
            why: e.to_string(),
        })?;
        match (base_age, over_age) {
            (Some(base), Some(a)) if a < base => widen(
                "min_retain_days",
                format!("{a} is shorter than the configured {base}"),
            ),
            (_, Some(a)) => {
                out.min_retain_days = None;
                out.keep_within = Some(a);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// How deployments are dated and how long a previous live one is kept: another date
    /// source, a `meta:` fallback or a shorter live grace than configured widens.
    fn narrow_dates(&self, over: &PolicySpec, out: &mut PolicySpec) -> Result<(), Widening> {
        // Not configured is the newest object's date, not "any".
        let base = self.date_source.clone().unwrap_or_default();
        match &over.date_source {
            Some(d) if *d != base => {
                return widen(
                    "date_source",
                    format!("'{d}' differs from the configured '{base}'"),
                )
            }
            Some(d) => out.date_source = Some(d.clone()),
            None => {}
        }
        if let (base, Some(m)) = (self.meta_fallback, over.meta_fallback) {
            if base != Some(m) {
                return widen(
                    "meta_fallback",
                    format!(
                        "dating unknown dates by the {m} object is not configured (they are kept)"
                    ),
                );
            }
        }
        let base_grace = self.live_grace.unwrap_or(crate::DEFAULT_LIVE_GRACE);
        match over.live_grace {
            Some(g) if g < base_grace => widen(
                "live_grace",
                format!("{g} is shorter than the configured {base_grace}"),
            ),
            Some(g) => {
                out.live_grace = Some(g);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Purging where it is not configured, or a higher max-delete, widens.
    fn narrow_deletion(&self, over: &PolicySpec, out: &mut PolicySpec) -> Result<(), Widening> {
        match over.purge_versions {
            Some(true) if self.purge_versions != Some(true) => {
                return widen(
                    "purge_versions",
                    "permanent deletion is not configured for this job".into(),
                )
            }
            // Keeping the versions deletes less.
            Some(false) => out.purge_versions = Some(false),
            _ => {}
        }
        let base_max = self.max_delete.unwrap_or(DEFAULT_MAX_DELETE);
        match over.max_delete {
            Some(m) if m > base_max => widen(
                "max_delete",
                format!("{m} is above the configured {base_max}"),
            ),
            Some(m) => {
                out.max_delete = Some(m);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// The refusal of an overlay field that would delete more.
fn widen(field: &'static str, why: String) -> Result<(), Widening> {
    Err(Widening { field, why })
}

fn dedup<T: Clone + PartialEq>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> PolicySpec {
        PolicySpec {
            retain: Some(5),
            min_retain_days: Some(30),
            pins: vec![DeploymentId::new("hotfix").unwrap()],
            max_delete: Some(20),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = PolicySpec {
            retain: Some(3),
            ..Default::default()
        }
        .build()
        .unwrap();
        assert_eq!(p.max_delete, Some(DEFAULT_MAX_DELETE));
        assert_eq!(p.date_source, DateSource::Newest);
        assert!(!p.purge_versions && p.keep_within.is_none());
        assert_eq!(PolicySpec::default().build(), Err(SpecError::NoRetain));
        let both = PolicySpec {
            retain: Some(1),
            min_retain_days: Some(1),
            keep_within: Some(Span::from_days(1)),
            ..Default::default()
        };
        assert_eq!(both.build(), Err(SpecError::TwoMinimumAges));
    }

    #[test]
    fn an_overlay_may_narrow() {
        let over = PolicySpec {
            retain: Some(8),
            keep_within: Some(Span::from_days(60)),
            pins: vec![DeploymentId::new("v2").unwrap()],
            max_delete: Some(3),
            ..Default::default()
        };
        let p = base().narrowed_by(&over).unwrap().build().unwrap();
        assert_eq!(p.retain.get(), 8);
        assert_eq!(p.keep_within, Some(Span::from_days(60)));
        assert_eq!(p.pins.len(), 2, "configured pins stay, new ones are added");
        assert_eq!(p.max_delete, Some(3));
    }

    #[test]
    fn an_overlay_may_not_widen() {
        let cases = [
            (
                "retain",
                PolicySpec {
                    retain: Some(1),
                    ..Default::default()
                },
            ),
            (
                "min_retain_days",
                PolicySpec {
                    min_retain_days: Some(1),
                    ..Default::default()
                },
            ),
            (
                "max_delete",
                PolicySpec {
                    max_delete: Some(500),
                    ..Default::default()
                },
            ),
            (
                "purge_versions",
                PolicySpec {
                    purge_versions: Some(true),
                    ..Default::default()
                },
            ),
        ];
        for (field, over) in cases {
            let err = base().narrowed_by(&over).unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
        // an empty pin list adds nothing and drops nothing
        let p = base()
            .narrowed_by(&PolicySpec::default())
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(p.pins, base().pins);
    }

    /// With no date source configured the job dates by the newest object: an overlay may say
    /// so, not ask for another one.
    #[test]
    fn an_overlay_may_not_choose_a_date_source_the_job_did_not_configure() {
        let over = |d: DateSource| PolicySpec {
            date_source: Some(d),
            ..Default::default()
        };
        let err = base().narrowed_by(&over(DateSource::Oldest)).unwrap_err();
        assert_eq!(err.field, "date_source", "{err}");
        let err = base()
            .narrowed_by(&over(DateSource::Meta("deployed-at".into())))
            .unwrap_err();
        assert_eq!(err.field, "date_source", "{err}");
        let p = base().narrowed_by(&over(DateSource::Newest)).unwrap();
        assert_eq!(p.build().unwrap().date_source, DateSource::Newest);
    }

    /// Keeping versions where purging is configured deletes less: honoured, not ignored.
    #[test]
    fn an_overlay_may_turn_purging_off() {
        let purging = PolicySpec {
            purge_versions: Some(true),
            ..base()
        };
        let over = PolicySpec {
            purge_versions: Some(false),
            ..Default::default()
        };
        let p = purging.narrowed_by(&over).unwrap().build().unwrap();
        assert!(!p.purge_versions);
    }

    /// A configured policy that names two minimum ages is no policy: an overlay cannot make it
    /// one by laying its own (shorter) age over both.
    #[test]
    fn an_overlay_cannot_replace_two_configured_minimum_ages() {
        let both = PolicySpec {
            keep_within: Some(Span::from_days(30)),
            ..base()
        };
        let over = PolicySpec {
            keep_within: Some(Span::from_secs(0)),
            ..Default::default()
        };
        let err = both.narrowed_by(&over).unwrap_err();
        assert_eq!(err.field, "min_retain_days", "{err}");
    }
}
