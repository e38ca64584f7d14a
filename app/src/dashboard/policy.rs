//! What the controls describe: the simple policy (keep the newest N, minimum age) or rules, as
//! the user is typing them; turned into a `retention::Policy` exactly as the server builds it,
//! and into the URL's compact form so a preview stays a link.

use retention::{
    DateSource, DeploymentId, Glob, GroupPattern, Policy, PolicySpec, Retain, Rule, Rules, Span,
};

/// One rule as typed in the editor: text fields, checked when the plan is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDraft {
    /// Stable identity for the editor's list (not shown, not saved).
    pub key: u32,
    pub name: String,
    pub matches: String,
    pub group: String,
    pub retain: String,
    pub days: String,
}

impl RuleDraft {
    pub fn of(key: u32, r: &Rule) -> RuleDraft {
        let days = r.keep_within.map(|w| {
            if w.as_secs() % 86_400 == 0 {
                (w.as_secs() / 86_400).to_string()
            } else {
                format!("{}s", w.as_secs())
            }
        });
        RuleDraft {
            key,
            name: r.name.to_string(),
            matches: r.matches.to_string(),
            group: r.group.as_ref().map(|g| g.to_string()).unwrap_or_default(),
            retain: r.retain.to_string(),
            days: days.unwrap_or_default(),
        }
    }

    /// The rule, or what is wrong with it ("Rule 2: …").
    fn rule(&self, n: usize) -> Result<Rule, String> {
        let at = |e: &dyn std::fmt::Display| format!("Rule {n}: {e}");
        let days = self.days.trim();
        let keep_within = if days.is_empty() {
            None
        } else if let Ok(d) = days.parse::<u64>() {
            Some(Span::from_days(d))
        } else {
            Some(days.parse::<Span>().map_err(|e| at(&e))?)
        };
        let group = self.group.trim();
        Ok(Rule {
            name: self.name.trim().parse().map_err(|e| at(&e))?,
            matches: self.matches.trim().parse().map_err(|e| at(&e))?,
            group: if group.is_empty() {
                None
            } else {
                Some(group.parse::<GroupPattern>().map_err(|e| at(&e))?)
            },
            retain: self
                .retain
                .parse::<Retain>()
                .map_err(|e| at(&e.to_string().replace("RETAIN", "Keep")))?,
            keep_within,
        })
    }
}

/// Drafts for `rules`, keyed from `first_key`.
pub fn drafts_of(rules: &Rules, first_key: u32) -> Vec<RuleDraft> {
    rules
        .as_slice()
        .iter()
        .zip(first_key..)
        .map(|(r, k)| RuleDraft::of(k, r))
        .collect()
}

/// The rules the drafts spell, or the first thing wrong with them.
pub fn rules_of(drafts: &[RuleDraft]) -> Result<Rules, String> {
    let rules = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| d.rule(i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Rules::new(rules).map_err(|e| e.to_string())
}

/// The policy the controls describe, with what an apply sends to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub policy: Policy,
    pub min_days: Option<u64>,
    /// Under rules: the policy file the server re-plans with.
    pub toml: Option<String>,
}

/// What the server lays on every policy, the page's previews and its own applies alike (one
/// [`Imposed::spec`]): its date source and guard, and the deployments it always keeps or leaves
/// alone (`serve --pin`, `--exclude`, the config file's `guards`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imposed {
    pub date_source: DateSource,
    pub max_delete: u64,
    pub pins: Vec<DeploymentId>,
    pub excludes: Vec<Glob>,
}

impl Imposed {
    pub fn of(view: &crate::wire::ScanView) -> Imposed {
        Imposed {
            date_source: view.date_source.clone(),
            max_delete: view.max_delete,
            pins: view.pins.clone(),
            excludes: view.excludes.clone(),
        }
    }

    /// The options every policy starts from; the page and the server then add RETAIN and a
    /// minimum age, or rules.
    pub fn spec(&self) -> PolicySpec {
        PolicySpec {
            date_source: Some(self.date_source.clone()),
            max_delete: Some(self.max_delete),
            pins: self.pins.clone(),
            excludes: self.excludes.clone(),
            ..PolicySpec::default()
        }
    }
}

/// The policy the controls describe, or a sentence saying why they describe none. Built as the
/// server builds it, so the confirmed set is the one the server will plan.
pub fn chosen(
    retain: &str,
    days: &str,
    rules: Option<&[RuleDraft]>,
    imposed: &Imposed,
) -> Result<Chosen, String> {
    let mut spec = imposed.spec();
    let mut min_days = None;
    let mut toml = None;
    match rules {
        Some(drafts) => {
            let rules = rules_of(drafts)?;
            toml = Some(retention::policy_to_toml(&rules));
            spec.rules = Some(rules);
        }
        None => {
            let r: Retain = retain
                .parse()
                .map_err(|e: retention::PolicyError| e.to_string())?;
            let d = days.trim();
            if !d.is_empty() {
                retention::parse_days(d)
                    .map_err(|e| e.to_string().replace("--min-retain-days", "Minimum age"))?;
                min_days = Some(d.parse::<u64>().unwrap_or(u64::MAX));
            }
            spec.retain = Some(r.get());
            spec.min_retain_days = min_days;
        }
    }
    let policy = spec.build().map_err(|e| e.to_string())?;
    Ok(Chosen {
        policy,
        min_days,
        toml,
    })
}

/// Field characters kept as they are in the URL form; everything else is `%XX`.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.*?^$()[]\\".contains(&b)
}

/// `s` with every byte `keep` refuses written as `%XX` (plain Rust: the server renders it too).
pub fn percent_encode(s: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_field(s: &str) -> String {
    percent_encode(s, plain)
}

/// `%XX` read back as its byte (anything else kept as it is); bytes that are not UTF-8 become
/// U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rules in the URL's compact form: `name,match,group,retain,days` per rule, rules
/// separated by `;` (fields percent-encoded, so `,` and `;` only ever separate).
pub fn encode_rules(drafts: &[RuleDraft]) -> String {
    drafts
        .iter()
        .map(|d| {
            [&d.name, &d.matches, &d.group, &d.retain, &d.days]
                .map(|f| encode_field(f.trim()))
                .join(",")
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads [`encode_rules`]'s form back; missing fields are empty.
pub fn decode_rules(s: &str) -> Vec<RuleDraft> {
    s.split(';')
        .filter(|r| !r.is_empty())
        .zip(0u32..)
        .map(|(r, key)| {
            let mut f = r.split(',').map(percent_decode);
            let mut next = || f.next().unwrap_or_default();
            RuleDraft {
                key,
                name: next(),
                matches: next(),
                group: next(),
                retain: next(),
                days: next(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, m: &str, g: &str, r: &str, d: &str) -> RuleDraft {
        RuleDraft {
            key: 0,
            name: name.into(),
            matches: m.into(),
            group: g.into(),
            retain: r.into(),
            days: d.into(),
        }
    }

    /// The page's usual impositions: dated by the newest object, the default guard.
    fn newest() -> Imposed {
        Imposed {
            date_source: DateSource::Newest,
            max_delete: 100,
            ..Imposed::default()
        }
    }

    #[test]
    fn rules_survive_the_url_form() {
        let drafts = vec![
            draft("production", "main-*", "", "10", "30"),
            draft("pre,views; 100%", "pr-*", r"^(pr-\d+)-", "1", "12h"),
        ];
        let text = encode_rules(&drafts);
        assert!(!text.contains(' '));
        let back = decode_rules(&text);
        assert_eq!(back.len(), 2);
        for (a, b) in drafts.iter().zip(&back) {
            assert_eq!(
                (&a.name, &a.matches, &a.group, &a.retain, &a.days),
                (&b.name, &b.matches, &b.group, &b.retain, &b.days)
            );
        }
        assert_eq!(text.split(';').next().unwrap(), "production,main-*,,10,30");
    }

    /// The server reads the policy file the browser wrote (ssr: the TOML reader is native only).
    #[cfg(feature = "ssr")]
    #[test]
    fn drafts_build_the_policy_the_server_builds() {
        let drafts = vec![draft("previews", "pr-*", r"^(pr-\d+)-", "1", "7")];
        let c = chosen("5", "", Some(&drafts), &newest()).unwrap();
        let toml = c.toml.unwrap();
        let server = PolicySpec {
            rules: Some(retention::parse_policy(&toml).unwrap()),
            date_source: Some(DateSource::Newest),
            max_delete: Some(100),
            ..Default::default()
        }
        .build()
        .unwrap();
        assert_eq!(c.policy, server);
        let bad = vec![draft("a", "*", "^pr", "1", "")];
        assert!(chosen("5", "", Some(&bad), &newest())
            .unwrap_err()
            .starts_with("Rule 1: "));
        let zero = vec![draft("a", "*", "", "0", "")];
        assert!(chosen("5", "", Some(&zero), &newest()).is_err());
        let simple = chosen("3", "30", None, &newest()).unwrap();
        assert_eq!(
            (simple.policy.retain.get(), simple.min_days, simple.toml),
            (3, Some(30), None)
        );
    }

    #[test]
    fn the_servers_pins_and_excludes_are_in_every_policy_the_page_spells() {
        let imposed = Imposed {
            pins: vec!["d5".parse().unwrap()],
            excludes: vec!["staging-*".parse().unwrap()],
            ..newest()
        };
        let simple = chosen("3", "", None, &imposed).unwrap().policy;
        let drafts = vec![draft("all", "*", "", "2", "")];
        let ruled = chosen("", "", Some(&drafts), &imposed).unwrap().policy;
        for p in [simple, ruled] {
            assert_eq!(p.pins, imposed.pins);
            assert_eq!(p.excludes, imposed.excludes);
        }
    }
}
