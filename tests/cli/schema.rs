//! `fph schema`: what it prints is what is committed under `scenarios/.schema/`. (That the
//! shipped files are valid against the schemas is the schema module's unit test.)

use std::path::Path;

use serde_json::Value;

use crate::support::{Dir, SCHEMAS};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fph_schema_prints_the_committed_schema_files() {
    let dir = Dir::new();
    for name in SCHEMAS {
        let file_name = format!("{name}.json");
        let printed = dir.fph().args(["schema", name]).run();
        assert_eq!(printed.code, 0, "{}", printed.stderr);
        let committed =
            std::fs::read_to_string(repo().join("scenarios/.schema").join(&file_name)).unwrap();
        assert!(
            printed.stdout == committed,
            "scenarios/.schema/{file_name} differs from `fph schema {name}`; regenerate it with \
             `cargo run -- schema {name} > scenarios/.schema/{file_name}`",
        );
        let value: Value = serde_json::from_str(&printed.stdout).unwrap();
        assert_eq!(
            value["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
    let unknown = dir.fph().args(["schema", "scenarios"]).run();
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("scenario"), "{}", unknown.stderr);
}
