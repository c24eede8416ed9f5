//! Errors with their place in a config file: `file:line:col: message`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One config file as read, kept so byte offsets can be turned into lines
/// and columns when an error is reported.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the operator gave it (relative stays relative).
    pub path: PathBuf,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    text: Arc<str>,
}

impl SourceFile {
    /// Index a file's text for line and column look-ups.
    pub fn new(path: impl Into<PathBuf>, text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        SourceFile {
            path: path.into(),
            line_starts,
            text: Arc::from(text),
        }
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        };
        let start = self.line_starts[line];
        // Columns count characters, as editors show them, not bytes.
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        (line + 1, column + 1)
    }
}

/// Where in which file: a byte range into one of the config's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Location {
    /// Index into [`super::Config::files`].
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

impl Location {
    /// A location in `file` covering `span`.
    pub fn new(file: usize, span: Range<usize>) -> Self {
        Location {
            file,
            start: span.start,
            end: span.end,
        }
    }
}

/// One problem found in a config, at a resolved file position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no position (e.g. an unreadable file).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Diagnostic {
    /// A problem with no position inside the file.
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// Every problem found in a config, printed one per line, sorted by file
/// then position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No problems yet.
    pub fn new() -> Self {
        Diagnostics::default()
    }

    /// Record a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// True when no problem was found.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The problems, sorted by file then position.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Add every problem of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Sort and drop exact repeats, so output is stable whatever order the
    /// checks ran in.
    pub(crate) fn finish(mut self) -> Self {
        self.items.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        self.items.dedup();
        self
    }

    /// `Ok(())` when empty, else the sorted problems.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.finish())
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.items.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Collects problems against byte locations while checks run, and resolves
/// them to lines and columns at the end.
pub(crate) struct Reporter<'a> {
    files: &'a [SourceFile],
    found: Diagnostics,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(files: &'a [SourceFile]) -> Self {
        Reporter {
            files,
            found: Diagnostics::new(),
        }
    }

    /// Record `message` at `at`.
    pub(crate) fn error(&mut self, at: Location, message: impl Into<String>) {
        self.found.push(self.resolve(at, message.into()));
    }

    /// A location as `file:line:col`, for messages naming a second place.
    pub(crate) fn describe(&self, at: Location) -> String {
        let diagnostic = self.resolve(at, String::new());
        format!(
            "{}:{}:{}",
            diagnostic.file.display(),
            diagnostic.line,
            diagnostic.column
        )
    }

    fn resolve(&self, at: Location, message: String) -> Diagnostic {
        match self.files.get(at.file) {
            Some(file) => {
                let (line, column) = file.line_col(at.start);
                Diagnostic {
                    file: file.path.clone(),
                    line,
                    column,
                    message,
                }
            }
            None => Diagnostic {
                file: PathBuf::from("<config>"),
                line: 0,
                column: 0,
                message,
            },
        }
    }

    pub(crate) fn finish(self) -> Diagnostics {
        self.found.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_character_columns() {
        let file = SourceFile::new("a.toml", "one\ntwö = 1\n\nx");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(4), (2, 1));
        // "ö" is two bytes but one column.
        assert_eq!(file.line_col(4 + "twö ".len()), (2, 5));
        assert_eq!(file.line_col(file.text().len() - 1), (4, 1));
    }

    #[test]
    fn diagnostics_print_one_per_line_sorted_by_file_then_position() {
        let mut found = Diagnostics::new();
        for (file, line) in [("b.toml", 1), ("a.toml", 9), ("a.toml", 2)] {
            found.push(Diagnostic {
                file: file.into(),
                line,
                column: 1,
                message: "bad".into(),
            });
        }
        let text = found.into_result().unwrap_err().to_string();
        assert_eq!(text, "a.toml:2:1: bad\na.toml:9:1: bad\nb.toml:1:1: bad");
    }
}
