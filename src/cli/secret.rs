//! Where the merchant secret comes from on the command line: the `FREEDOMPAY_SECRET_KEY`
//! environment variable or a file named with `--secret-file`. Never a command-line value,
//! because command lines end up in shell history and process listings.

use std::path::Path;

use crate::gateway::SecretKey;
use crate::scenario::SECRET_KEY_VAR;
use anyhow::{Context, bail};

/// The secret from `file` when given, else from the environment.
pub fn load(file: Option<&Path>) -> anyhow::Result<SecretKey> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the secret file {}", path.display()))?;
        // Editors add a final newline; a secret never ends with one.
        let key = text.trim_end_matches(['\r', '\n']);
        if key.is_empty() {
            bail!("the secret file {} is empty", path.display());
        }
        return Ok(SecretKey::new(key));
    }
    match std::env::var(SECRET_KEY_VAR) {
        Ok(key) if !key.is_empty() => Ok(SecretKey::new(key)),
        _ => bail!("no secret key: set {SECRET_KEY_VAR} or pass --secret-file FILE"),
    }
}
