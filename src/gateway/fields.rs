//! The fields of a Freedom Pay message: an ordered list of names and values, where a value is
//! either text or a nested list (`pg_receipt_positions[0][count]=1` on the wire).
//!
//! Order is kept as given: the signature sorts by name itself, and keeping the caller's order
//! makes cassettes and reports read the way the scenario was written.

use std::borrow::Cow;
use std::fmt;

/// One value: plain text, or a nested group of named values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Text(String),
    Nested(Fields),
}

/// An ordered list of `(name, value)` pairs. Names may repeat (XML siblings do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    entries: Vec<(String, FieldValue)>,
}

/// A `FIELD=VALUE` or form key that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("failed to read `{0}`: expected FIELD=VALUE")]
    MissingEquals(String),
    #[error("failed to read field name `{0}`: brackets must be balanced, as in `a[b][c]`")]
    BadBrackets(String),
    #[error("failed to read field `{0}`: the name is empty")]
    EmptyName(String),
    #[error("failed to read field `{0}`: it is both a value and a group")]
    ValueAndGroup(String),
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Appends a text field, keeping any earlier field of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries
            .push((name.into(), FieldValue::Text(value.into())));
    }

    pub fn push_value(&mut self, name: impl Into<String>, value: FieldValue) {
        self.entries.push((name.into(), value));
    }

    /// Sets a top-level text field: replaces the first of that name, or appends.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = FieldValue::Text(value.into());
        match self.entries.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name.to_owned(), value)),
        }
    }

    /// Removes every top-level field of that name; returns whether any was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != name);
        before != self.entries.len()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == name)
    }

    pub fn get_value(&self, name: &str) -> Option<&FieldValue> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The text of the first top-level field of that name.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.get_value(name)? {
            FieldValue::Text(t) => Some(t),
            FieldValue::Nested(_) => None,
        }
    }

    /// Reads `FIELD=VALUE` arguments (command line) into fields; `a[b][c]=v` nests.
    pub fn from_assignments<I, S>(args: I) -> Result<Self, FieldError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut fields = Fields::new();
        for arg in args {
            let arg = arg.as_ref();
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| FieldError::MissingEquals(arg.to_owned()))?;
            fields.insert_form_key(key, value)?;
        }
        Ok(fields)
    }

    /// Reads form pairs (`a[b][c]`, value) as sent on the wire into nested fields.
    pub fn from_form_pairs<I, K, V>(pairs: I) -> Result<Self, FieldError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut fields = Fields::new();
        for (k, v) in pairs {
            fields.insert_form_key(k.as_ref(), v)?;
        }
        Ok(fields)
    }

    /// Inserts one form key, `name` or `name[a][b]`, creating groups on the way.
    pub fn insert_form_key(
        &mut self,
        key: &str,
        value: impl Into<String>,
    ) -> Result<(), FieldError> {
        let path = parse_form_key(key)?;
        let (last, groups) = path.split_last().expect("parse_form_key returns a name");
        let mut current = self;
        for group in groups {
            let index = match current.entries.iter().position(|(k, _)| k == group) {
                Some(i) => i,
                None => {
                    current
                        .entries
                        .push((group.clone(), FieldValue::Nested(Fields::new())));
                    current.entries.len() - 1
                }
            };
            current = match &mut current.entries[index].1 {
                FieldValue::Nested(inner) => inner,
                FieldValue::Text(_) => return Err(FieldError::ValueAndGroup(key.to_owned())),
            };
        }
        if matches!(current.get_value(last), Some(FieldValue::Nested(_))) {
            return Err(FieldError::ValueAndGroup(key.to_owned()));
        }
        current.push(last.clone(), value);
        Ok(())
    }

    /// The wire form: `(a[b][c], value)` pairs, depth first, in order. Names and values are
    /// borrowed; only nested names are built.
    pub fn form_pairs(&self) -> Vec<(Cow<'_, str>, &str)> {
        fn walk<'a>(
            prefix: Option<&str>,
            fields: &'a Fields,
            out: &mut Vec<(Cow<'a, str>, &'a str)>,
        ) {
            for (name, value) in fields.iter() {
                let key = match prefix {
                    Some(p) => Cow::Owned(format!("{p}[{name}]")),
                    None => Cow::Borrowed(name),
                };
                match value {
                    FieldValue::Text(t) => out.push((key, t)),
                    FieldValue::Nested(inner) => walk(Some(&key), inner, out),
                }
            }
        }
        let mut out = Vec::with_capacity(self.entries.len());
        walk(None, self, &mut out);
        out
    }

    /// [`Fields::form_pairs`], owned.
    pub fn to_form_pairs(&self) -> Vec<(String, String)> {
        self.form_pairs()
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value.to_owned()))
            .collect()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Fields {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut fields = Fields::new();
        for (k, v) in iter {
            fields.push(k, v);
        }
        fields
    }
}

impl fmt::Display for Fields {
    /// `name=value` pairs in wire form, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in self.to_form_pairs() {
            writeln!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

/// Splits `a[b][c]` into `["a", "b", "c"]`.
fn parse_form_key(key: &str) -> Result<Vec<String>, FieldError> {
    let bad = || FieldError::BadBrackets(key.to_owned());
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(FieldError::EmptyName(key.to_owned()));
    }
    if head.contains(']') {
        return Err(bad());
    }
    let mut path = vec![head.to_owned()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(bad)?;
        let close = inner.find(']').ok_or_else(bad)?;
        let part = &inner[..close];
        if part.contains('[') || part.is_empty() {
            return Err(bad());
        }
        path.push(part.to_owned());
        rest = &inner[close + 1..];
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_round_trip_through_the_wire_form() {
        let fields = Fields::from_assignments([
            "pg_amount=25",
            "pg_receipt_positions[0][count]=1",
            "pg_receipt_positions[0][name]=product name",
            "pg_receipt_positions[1][count]=2",
        ])
        .unwrap();
        assert_eq!(fields.len(), 2);
        let pairs = fields.to_form_pairs();
        assert_eq!(
            pairs,
            vec![
                ("pg_amount".to_owned(), "25".to_owned()),
                ("pg_receipt_positions[0][count]".to_owned(), "1".to_owned()),
                (
                    "pg_receipt_positions[0][name]".to_owned(),
                    "product name".to_owned()
                ),
                ("pg_receipt_positions[1][count]".to_owned(), "2".to_owned()),
            ]
        );
        assert_eq!(Fields::from_form_pairs(pairs).unwrap(), fields);
    }

    #[test]
    fn values_may_be_empty_or_contain_equals() {
        let fields = Fields::from_assignments(["a=", "b=x=y"]).unwrap();
        assert_eq!(fields.get("a"), Some(""));
        assert_eq!(fields.get("b"), Some("x=y"));
    }

    #[test]
    fn malformed_assignments_are_errors() {
        assert_eq!(
            Fields::from_assignments(["pg_amount"]),
            Err(FieldError::MissingEquals("pg_amount".into()))
        );
        assert!(matches!(
            Fields::from_assignments(["a[b=1"]),
            Err(FieldError::BadBrackets(_))
        ));
        assert!(matches!(
            Fields::from_assignments(["=1"]),
            Err(FieldError::EmptyName(_))
        ));
        assert!(matches!(
            Fields::from_assignments(["a=1", "a[b]=2"]),
            Err(FieldError::ValueAndGroup(_))
        ));
    }

    #[test]
    fn set_replaces_and_remove_drops() {
        let mut fields: Fields = [("a", "1"), ("b", "2")].into_iter().collect();
        fields.set("a", "3");
        fields.set("c", "4");
        assert_eq!(fields.get("a"), Some("3"));
        assert!(fields.remove("b"));
        assert!(!fields.contains("b"));
        assert_eq!(fields.len(), 2);
    }
}
