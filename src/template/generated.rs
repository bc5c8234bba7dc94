//! The values generated for one case (`order_id.1`, `env.NAME`, the runner's `pg_salt.…`):
//! handed out fresh, or frozen to what a cassette recorded.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The values generated for one case, keyed as described in the module doc; fresh, or frozen
/// to the values a cassette recorded.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Every value handed out in this case, in the order first asked for: what a recorder
    /// writes as the cassette's `bindings`.
    values: Vec<(String, String)>,
    /// The recording, when replaying.
    recorded: Option<HashMap<String, String>>,
    counters: HashMap<String, u32>,
    /// Keys asked for on replay that the recording does not have.
    missing: Vec<String>,
    rng: fastrand::Rng,
}

impl Default for Generated {
    fn default() -> Self {
        Generated::fresh()
    }
}

impl Generated {
    /// A store that generates new values (recording and live runs).
    pub fn fresh() -> Generated {
        Generated::with_rng(fastrand::Rng::new(), None)
    }

    /// Like [`fresh`](Self::fresh) but reproducible: the same seed gives the same values
    /// (for tests).
    #[cfg(test)]
    pub fn seeded(seed: u64) -> Generated {
        Generated::with_rng(fastrand::Rng::with_seed(seed), None)
    }

    /// A store that returns the recorded values (replay). A key the recording lacks still
    /// gets a fresh value, and is listed by [`missing`](Self::missing) so the runner can fail
    /// the case with a clear message instead of a confusing request mismatch.
    pub fn frozen<K: Into<String>, V: Into<String>>(
        recorded: impl IntoIterator<Item = (K, V)>,
    ) -> Generated {
        let recorded = recorded
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Generated::with_rng(fastrand::Rng::new(), Some(recorded))
    }

    fn with_rng(rng: fastrand::Rng, recorded: Option<HashMap<String, String>>) -> Generated {
        Generated {
            values: Vec::new(),
            recorded,
            counters: HashMap::new(),
            missing: Vec::new(),
            rng,
        }
    }

    /// The value of the next counted call of `function` (key `function.N`).
    pub(super) fn counted(
        &mut self,
        function: &str,
        make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
    ) -> Result<String, String> {
        let key = self.next_key(function);
        self.value(&key, make)
    }

    /// The next counted key for `function`: `order_id.1`, then `order_id.2`, …
    pub fn next_key(&mut self, function: &str) -> String {
        let counter = self.counters.entry(function.to_owned()).or_insert(0);
        *counter += 1;
        format!("{function}.{counter}")
    }

    /// The value under `key`: the one already handed out in this case, else the recorded
    /// one, else a new one from `make`. The value is remembered under `key` either way.
    pub fn value(
        &mut self,
        key: &str,
        make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
    ) -> Result<String, String> {
        if let Some((_, value)) = self.values.iter().find(|(k, _)| k == key) {
            return Ok(value.clone());
        }
        let value = match self.recorded.as_ref().and_then(|r| r.get(key)) {
            Some(value) => value.clone(),
            None => {
                if self.recorded.is_some() {
                    self.missing.push(key.to_owned());
                }
                make(&mut self.rng)?
            }
        };
        self.values.push((key.to_owned(), value.clone()));
        Ok(value)
    }

    /// Every value handed out in this case, in order.
    pub fn values(&self) -> &[(String, String)] {
        &self.values
    }

    /// Keys asked for on replay that the recording did not have.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }
}

/// A poisoned lock only means another render panicked; the store itself stays consistent
/// (every update is a single push), so keep using it.
pub(super) fn lock(store: &Mutex<Generated>) -> MutexGuard<'_, Generated> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
