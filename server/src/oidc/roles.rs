//! Roles from the identity provider's groups: `[serve.roles]` names the groups of each role
//! (`deployer = ["release-managers"]`); a person gets the highest role any of their groups has,
//! and `viewer` — the least — when none has one or the token carries no groups claim, unless
//! `viewer` names groups: then someone in no named group is not let in ([`Roles::admits`]). A bucket
//! may give some groups more (`[serve.bucket_roles."site-a"]`, `--role deployer=web@site-a`).

use app::wire::Role;
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[serve.roles]`: the groups of each role. An unknown key is a configuration error (with its
/// line), never a role silently not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMap {
    #[serde(default)]
    pub viewer: Vec<String>,
    #[serde(default)]
    pub deployer: Vec<String>,
    #[serde(default)]
    pub admin: Vec<String>,
}

impl RoleMap {
    /// The highest role one of `groups` has; `viewer` when none.
    pub fn role_of(&self, groups: &[String]) -> Role {
        let any = |names: &[String]| groups.iter().any(|g| names.contains(g));
        if any(&self.admin) {
            Role::Admin
        } else if any(&self.deployer) {
            Role::Deployer
        } else {
            Role::Viewer
        }
    }
}

/// Every bucket's role map and the per-bucket ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub all: RoleMap,
    /// By `--bucket` key.
    pub buckets: BTreeMap<String, RoleMap>,
}

impl Roles {
    /// A person's role on every bucket, and the buckets where their groups give more.
    pub fn of(&self, groups: &[String]) -> (Role, BTreeMap<String, Role>) {
        let all = self.all.role_of(groups);
        let more = self
            .buckets
            .iter()
            .map(|(b, m)| (b.clone(), m.role_of(groups)))
            .filter(|(_, r)| *r > all)
            .collect();
        (all, more)
    }
}

impl Roles {
    /// Whether someone in `groups` may sign in at all: anyone the provider signs in while no
    /// `viewer` list is given (they see every bucket); once `viewer` names groups (everywhere or
    /// on a bucket), only people in a group that some role names.
    pub fn admits(&self, groups: &[String]) -> bool {
        let maps = || std::iter::once(&self.all).chain(self.buckets.values());
        if maps().all(|m| m.viewer.is_empty()) {
            return true;
        }
        maps().any(|m| {
            [&m.viewer, &m.deployer, &m.admin]
                .iter()
                .any(|names| groups.iter().any(|g| names.contains(g)))
        })
    }
}

/// The groups claim `claim` of a JWT whose signature was already checked: a list of strings or
/// one string; nothing when it is missing or of another shape.
pub fn groups_in(jwt: &str, claim: &str) -> Vec<String> {
    let Some(payload) = jwt.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match claims.get(claim) {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", b.encode("{}"), b.encode(payload))
    }

    #[test]
    fn the_highest_role_of_any_group_wins_and_no_group_means_viewer() {
        let map = RoleMap {
            viewer: vec!["staff".into()],
            deployer: vec!["release-managers".into()],
            admin: vec!["platform".into()],
        };
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            map.role_of(&g(&["staff", "release-managers"])),
            Role::Deployer
        );
        assert_eq!(map.role_of(&g(&["platform", "staff"])), Role::Admin);
        assert_eq!(map.role_of(&g(&["staff"])), Role::Viewer);
        assert_eq!(map.role_of(&g(&["unknown"])), Role::Viewer);
        assert_eq!(map.role_of(&[]), Role::Viewer);
    }

    #[test]
    fn a_bucket_can_give_a_group_more_never_less() {
        let roles = Roles {
            all: RoleMap {
                deployer: vec!["release".into()],
                ..RoleMap::default()
            },
            buckets: [(
                "site-a".to_string(),
                RoleMap {
                    deployer: vec!["web".into()],
                    viewer: vec!["release".into()],
                    ..RoleMap::default()
                },
            )]
            .into(),
        };
        let (all, more) = roles.of(&["web".into()]);
        assert_eq!(
            (all, more.get("site-a")),
            (Role::Viewer, Some(&Role::Deployer))
        );
        let (all, more) = roles.of(&["release".into()]);
        assert_eq!(
            (all, more.len()),
            (Role::Deployer, 0),
            "a bucket never lowers a role"
        );
    }

    #[test]
    fn once_viewer_names_groups_only_people_in_a_named_group_are_let_in() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let open = Roles {
            all: RoleMap {
                deployer: vec!["release".into()],
                ..RoleMap::default()
            },
            ..Roles::default()
        };
        assert!(open.admits(&[]), "no viewer list: anyone signed in views");
        let listed = Roles {
            all: RoleMap {
                viewer: vec!["staff".into()],
                deployer: vec!["release".into()],
                ..RoleMap::default()
            },
            buckets: [(
                "site-a".to_string(),
                RoleMap {
                    deployer: vec!["web".into()],
                    ..RoleMap::default()
                },
            )]
            .into(),
        };
        assert!(listed.admits(&g(&["staff"])));
        assert!(listed.admits(&g(&["release"])), "a deployer views too");
        assert!(listed.admits(&g(&["web"])), "a group one bucket names");
        assert!(!listed.admits(&g(&["contractors"])));
        assert!(!listed.admits(&[]), "no groups claim");
    }

    #[test]
    fn groups_are_read_from_a_list_or_a_string_and_a_missing_claim_is_none() {
        assert_eq!(
            groups_in(&jwt(r#"{"groups":["a","b",3]}"#), "groups"),
            vec!["a", "b"]
        );
        assert_eq!(groups_in(&jwt(r#"{"roles":"a"}"#), "roles"), vec!["a"]);
        assert!(groups_in(&jwt(r#"{"sub":"x"}"#), "groups").is_empty());
        assert!(groups_in("not a jwt", "groups").is_empty());
    }

    #[test]
    fn an_unknown_role_name_is_an_error_naming_it() {
        let e = toml::from_str::<RoleMap>("deployers = [\"x\"]").unwrap_err();
        assert!(e.to_string().contains("deployers"), "{e}");
    }
}
