//! JSON pointer → line and column in the file's text, for SARIF and the text report.
//!
//! One pass over the text per file resolves every pointer asked for: a small scanner walks
//! the JSON, keeping the pointer of the value it is in, and records the position of each
//! wanted pointer (and of each prefix, so a pointer into a policy held as a string resolves to
//! that string).

use std::collections::{HashMap, HashSet};

/// A position: 1-based line and column (column in UTF-16 code units, SARIF's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Resolves `pointers` in `text`; a pointer that does not exist resolves to its longest
/// existing prefix (the whole file at worst: line 1, column 1).
pub fn locate(text: &str, pointers: &[&str]) -> HashMap<String, Position> {
    let mut wanted: HashSet<String> = HashSet::new();
    for p in pointers {
        let mut cut = p.len();
        loop {
            wanted.insert(p[..cut].to_owned());
            match p[..cut].rfind('/') {
                Some(i) => cut = i,
                None => break,
            }
        }
    }
    let mut sc =
        Scanner { b: text.as_bytes(), text, i: 0, line: 1, line_start: 0, found: HashMap::new(), wanted: &wanted };
    let mut path = String::new();
    sc.value(&mut path, 0);
    let mut out = HashMap::new();
    for p in pointers {
        let mut cut = p.len();
        let pos = loop {
            if let Some(pos) = sc.found.get(&p[..cut]) {
                break *pos;
            }
            match p[..cut].rfind('/') {
                Some(i) => cut = i,
                None => break Position { line: 1, column: 1 },
            }
        };
        out.insert((*p).to_owned(), pos);
    }
    out
}

struct Scanner<'t> {
    b: &'t [u8],
    text: &'t str,
    i: usize,
    line: usize,
    line_start: usize,
    found: HashMap<String, Position>,
    wanted: &'t HashSet<String>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    fn pos(&self) -> Position {
        let col = self.text.get(self.line_start..self.i).map_or(0, |s| s.encode_utf16().count());
        Position { line: self.line, column: col + 1 }
    }

    /// Skips a string, returning its decoded text.
    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        let raw = self.text.get(start..self.i.min(self.b.len())).unwrap_or("\"\"");
        serde_json::from_str::<String>(raw).unwrap_or_default()
    }

    fn value(&mut self, path: &mut String, depth: usize) {
        self.ws();
        if self.wanted.contains(path.as_str()) {
            let pos = self.pos();
            self.found.entry(path.clone()).or_insert(pos);
        }
        if depth > 512 {
            return;
        }
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b'}') => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => self.i += 1,
                        Some(b'"') => {
                            let key_pos = self.pos();
                            let key = self.string();
                            let len = path.len();
                            path.push('/');
                            path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                            // A key's position is where the key is written (more useful than its value's).
                            if self.wanted.contains(path.as_str()) {
                                self.found.entry(path.clone()).or_insert(key_pos);
                            }
                            self.ws();
                            if self.b.get(self.i) == Some(&b':') {
                                self.i += 1;
                            }
                            self.value(path, depth + 1);
                            path.truncate(len);
                        }
                        _ => return,
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0usize;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b']') => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => self.i += 1,
                        Some(_) => {
                            let len = path.len();
                            path.push('/');
                            path.push_str(&n.to_string());
                            self.value(path, depth + 1);
                            path.truncate(len);
                            n += 1;
                        }
                        None => return,
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while let Some(&c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.i += 1;
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pointers_resolve_to_lines_and_columns() {
        let text =
            "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",\n     \"Action\": [\"s3:a\", \"s3:b\"]}\n  ]\n}\n";
        let got = locate(text, &["/Statement/0/Action/1", "/Statement/0/Effect", "", "/Statement/0/Nope/3"]);
        assert_eq!(got["/Statement/0/Action/1"], Position { line: 4, column: 25 });
        assert_eq!(got["/Statement/0/Effect"], Position { line: 3, column: 6 });
        assert_eq!(got[""], Position { line: 1, column: 1 });
        assert_eq!(got["/Statement/0/Nope/3"], Position { line: 3, column: 5 });
    }
}
