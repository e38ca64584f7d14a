//! The rule editor's edits as plain functions of its drafts: find a field's text, change it,
//! add, move and remove a rule. Drafts are known by their `key`, not their position.

use crate::dashboard::policy::RuleDraft;

/// Which field of a draft an input edits, and how its input is labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Match,
    Group,
    Retain,
    Days,
}

impl Field {
    pub fn get(self, d: &RuleDraft) -> &str {
        match self {
            Field::Name => &d.name,
            Field::Match => &d.matches,
            Field::Group => &d.group,
            Field::Retain => &d.retain,
            Field::Days => &d.days,
        }
    }

    pub fn set(self, d: &mut RuleDraft, v: String) {
        match self {
            Field::Name => d.name = v,
            Field::Match => d.matches = v,
            Field::Group => d.group = v,
            Field::Retain => d.retain = v,
            Field::Days => d.days = v,
        }
    }

    /// The label shown above the input.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Match => "Match",
            Field::Group => "Group",
            Field::Retain => "Keep",
            Field::Days => "Min. days",
        }
    }

    /// The name in the input's class and `data-field`.
    pub fn class(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Match => "match",
            Field::Group => "group",
            Field::Retain => "retain",
            Field::Days => "days",
        }
    }

    /// An example shown while the input is empty.
    pub fn placeholder(self) -> &'static str {
        match self {
            Field::Name => "previews",
            Field::Match => "pr-*",
            Field::Group => "^(pr-\\d+)-",
            Field::Retain => "1",
            Field::Days => "off",
        }
    }
}

/// The drafts as the editor holds them (`None`: the page plans without rules).
pub type Drafts = Option<Vec<RuleDraft>>;

/// The text of `field` in draft `key`; empty when there is no such draft.
pub fn value(drafts: &Drafts, key: u32, field: Field) -> String {
    drafts
        .iter()
        .flatten()
        .find(|d| d.key == key)
        .map(|d| field.get(d).to_string())
        .unwrap_or_default()
}

/// Where draft `key` is in the list.
pub fn position(drafts: &Drafts, key: u32) -> Option<usize> {
    drafts.iter().flatten().position(|d| d.key == key)
}

/// How many drafts there are.
pub fn count(drafts: &Drafts) -> usize {
    drafts.as_ref().map_or(0, Vec::len)
}

/// Sets `field` of draft `key` to `value`.
pub fn edit(drafts: &mut Drafts, key: u32, field: Field, value: String) {
    if let Some(d) = drafts.iter_mut().flatten().find(|d| d.key == key) {
        field.set(d, value);
    }
}

/// Moves draft `key` one place up or down; nothing at either end.
pub fn shift(drafts: &mut Drafts, key: u32, up: bool) {
    let Some(v) = drafts else { return };
    let Some(i) = v.iter().position(|d| d.key == key) else {
        return;
    };
    let j = if up { i.checked_sub(1) } else { Some(i + 1) };
    if let Some(j) = j.filter(|j| *j < v.len()) {
        v.swap(i, j);
    }
}

/// Removes draft `key`.
pub fn remove(drafts: &mut Drafts, key: u32) {
    if let Some(v) = drafts {
        v.retain(|d| d.key != key);
    }
}

/// Adds a rule at the end, with key `key`: "rule N", matching everything, keeping 3.
pub fn add(drafts: &mut Drafts, key: u32) {
    let v = drafts.get_or_insert_with(Vec::new);
    v.push(RuleDraft {
        key,
        name: format!("rule {}", v.len() + 1),
        matches: "*".into(),
        group: String::new(),
        retain: "3".into(),
        days: String::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(d: &Drafts) -> Vec<&str> {
        d.iter().flatten().map(|d| d.name.as_str()).collect()
    }

    fn three() -> Drafts {
        let mut d = None;
        for key in [7, 8, 9] {
            add(&mut d, key);
        }
        d
    }

    #[test]
    fn added_rules_are_numbered_and_found_by_key() {
        let mut d = three();
        assert_eq!(names(&d), ["rule 1", "rule 2", "rule 3"]);
        assert_eq!((position(&d, 9), count(&d)), (Some(2), 3));
        edit(&mut d, 8, Field::Group, "^(pr-\\d+)-".into());
        assert_eq!(value(&d, 8, Field::Group), "^(pr-\\d+)-");
        assert_eq!(value(&d, 8, Field::Retain), "3");
        assert_eq!(value(&d, 1, Field::Name), "");
    }

    #[test]
    fn rules_move_within_the_list_and_are_removed_by_key() {
        let mut d = three();
        shift(&mut d, 7, true);
        shift(&mut d, 9, false);
        assert_eq!(names(&d), ["rule 1", "rule 2", "rule 3"]);
        shift(&mut d, 7, false);
        assert_eq!(names(&d), ["rule 2", "rule 1", "rule 3"]);
        remove(&mut d, 7);
        assert_eq!(names(&d), ["rule 2", "rule 3"]);
        assert_eq!(position(&d, 7), None);
    }
}
