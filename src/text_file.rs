//! Reading the files users write — scenarios, `harness.yaml`, cassettes, emulator
//! configurations — as text, one way for all of them: a regular file (a FIFO would block the
//! run, a dangling link or a link loop is named, not skipped), UTF-8 (a UTF-16 file, a binary
//! file or a stray byte is refused with the line and column of the first byte that is not
//! text). The error carries the place, so every loader reports it in its own shape.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a file could not be read as text, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFileError {
    pub path: PathBuf,
    /// 1-based line and column of the offending byte; 0 when the file as a whole is wrong.
    pub line: usize,
    pub column: usize,
    pub reason: String,
    /// True when the file does not exist (callers may have a default).
    pub not_found: bool,
}

impl fmt::Display for TextFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.reason
            )
        } else {
            write!(f, "{}: {}", self.path.display(), self.reason)
        }
    }
}

impl std::error::Error for TextFileError {}

/// Reads `path` as UTF-8 text; see the module doc for what is refused.
pub fn read(path: &Path) -> Result<String, TextFileError> {
    let whole = |reason: String, not_found: bool| TextFileError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        reason,
        not_found,
    };
    // Follows links: a dangling link is "no such file", a loop "too many levels of links".
    let metadata = std::fs::metadata(path).map_err(|e| {
        let dangling =
            e.kind() == std::io::ErrorKind::NotFound && std::fs::symlink_metadata(path).is_ok();
        if dangling {
            whole(
                "a symbolic link to a file that does not exist".into(),
                false,
            )
        } else {
            whole(io_reason(&e), e.kind() == std::io::ErrorKind::NotFound)
        }
    })?;
    if !metadata.is_file() {
        let what = if metadata.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(whole(format!("{what}; expected a text file"), false));
    }
    let bytes = std::fs::read(path).map_err(|e| whole(io_reason(&e), false))?;
    decode(bytes).map_err(|(line, column, reason)| TextFileError {
        path: path.to_owned(),
        line,
        column,
        reason,
        not_found: false,
    })
}

/// The bytes as UTF-8 text, or the 1-based line, column and reason of the first problem.
pub fn decode(bytes: Vec<u8>) -> Result<String, (usize, usize, String)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err((1, 1, "the file is UTF-16 text; save it as UTF-8".into()));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let (line, column) = place(&error.as_bytes()[..valid]);
            let byte = error.as_bytes()[valid];
            return Err((
                line,
                column,
                format!("byte 0x{byte:02X} is not UTF-8 text; save the file as UTF-8"),
            ));
        }
    };
    if let Some(nul) = text.find('\0') {
        let (line, column) = place(&text.as_bytes()[..nul]);
        return Err((
            line,
            column,
            "a NUL byte: this is a binary file, not text".into(),
        ));
    }
    Ok(text)
}

/// The line and column (in characters) just after `before`.
fn place(before: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(before);
    let line = text.matches('\n').count() + 1;
    let start = text.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..].chars().count() + 1)
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "there is no such file or directory".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_text_is_located() {
        assert_eq!(decode(b"a: 1\n".to_vec()), Ok("a: 1\n".into()));
        let (line, column, reason) = decode(b"a: 1\nbc: \xff\n".to_vec()).unwrap_err();
        assert_eq!((line, column), (2, 5));
        assert!(reason.contains("0xFF"), "{reason}");
        assert_eq!(decode(b"\xff\xfea\0".to_vec()).unwrap_err().0, 1);
        let (line, column, _) = decode("é\n\0".as_bytes().to_vec()).unwrap_err();
        assert_eq!((line, column), (2, 1));
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let dangling = dir.path().join("a.yaml");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        assert!(
            read(&dangling)
                .unwrap_err()
                .reason
                .contains("symbolic link")
        );
        let looped = dir.path().join("b.yaml");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        assert!(read(&looped).is_err());
        assert!(read(dir.path()).unwrap_err().reason.contains("directory"));
        assert!(read(&dir.path().join("none")).unwrap_err().not_found);
    }
}
