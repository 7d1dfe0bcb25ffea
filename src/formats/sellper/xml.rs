//! Streaming reader for Sellper XML: encoding detection, transcoding to UTF-8, and a cursor that
//! walks container elements event by event while building small trees only for the elements a
//! converter asks for (one record at a time), so a 1 GB stock list needs bounded memory.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::{self, BufRead, BufReader, Read};

/// Why a document could not be read as XML. I/O failures are kept apart: they are not the
/// document's fault and end the conversion instead of producing a report.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes are not in a supported encoding (`encoding.invalid`).
    Encoding(String),
    /// The document is not well-formed (`xml.syntax`).
    Syntax(String),
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The encodings Sellper documents may declare in their prolog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    Utf8,
    Windows1251,
}

/// Looks at the start of the input (byte-order mark, XML declaration) and names its encoding.
/// Only the first bytes are inspected; nothing is consumed except a UTF-8 byte-order mark.
pub fn sniff_encoding<R: BufRead>(input: &mut R) -> Result<SourceEncoding, ReadError> {
    let head = input.fill_buf()?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
        return Ok(SourceEncoding::Utf8);
    }
    if head.starts_with(&[0xFE, 0xFF]) || head.starts_with(&[0xFF, 0xFE]) {
        return Err(ReadError::Encoding(
            "UTF-16 documents are not supported: Sellper sends UTF-8 or windows-1251".into(),
        ));
    }
    if !head.starts_with(b"<?xml") {
        return Ok(SourceEncoding::Utf8);
    }
    let end = head
        .windows(2)
        .position(|w| w == b"?>")
        .unwrap_or(head.len());
    let decl = String::from_utf8_lossy(&head[..end]).into_owned();
    let Some(label) = declared_encoding(&decl) else {
        return Ok(SourceEncoding::Utf8);
    };
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        Some(e) if e == encoding_rs::UTF_8 => Ok(SourceEncoding::Utf8),
        Some(e) if e == encoding_rs::WINDOWS_1251 => Ok(SourceEncoding::Windows1251),
        _ => Err(ReadError::Encoding(format!(
            "the XML declaration names encoding \"{label}\"; only UTF-8 and windows-1251 are supported"
        ))),
    }
}

/// The value of `encoding="…"` (either quote) in an XML declaration.
fn declared_encoding(decl: &str) -> Option<String> {
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let close = body.find(quote)?;
    Some(body[..close].trim().to_string())
}

/// A reader that turns windows-1251 bytes into UTF-8 as they are read, so the XML parser only
/// ever sees UTF-8 (quick-xml's own encoding support is not compiled in).
pub struct Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    out_pos: usize,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    pub fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        Transcoder {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 32 * 1024],
            output: Vec::new(),
            out_pos: 0,
            finished: false,
        }
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.output.len() {
            if self.finished {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let cap = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            self.output.clear();
            self.output.resize(cap, 0);
            self.out_pos = 0;
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n);
            self.output.truncate(written);
            self.finished = last;
        }
        let n = buf.len().min(self.output.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Opens a byte stream as UTF-8 text according to its declared encoding.
pub fn utf8_stream<R: Read + 'static>(input: R) -> Result<Box<dyn BufRead>, ReadError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    match sniff_encoding(&mut buffered)? {
        SourceEncoding::Utf8 => Ok(Box::new(buffered)),
        SourceEncoding::Windows1251 => Ok(Box::new(BufReader::with_capacity(
            64 * 1024,
            Transcoder::new(buffered, encoding_rs::WINDOWS_1251),
        ))),
    }
}

/// One element with everything inside it. Only built for elements small enough to hold:
/// a record, an event, a single-object document.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Character data directly inside the element, trimmed.
    pub text: String,
    /// Where the element is, XPath style (`/products/product[3]/name`): positions are 1-based
    /// and written when an element has siblings of the same name, and always for records.
    pub pointer: String,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty trimmed attribute.
    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element's own text when it is not empty.
    pub fn value(&self) -> Option<&str> {
        Some(self.text.as_str()).filter(|t| !t.is_empty())
    }

    /// The text of the first child called `name`, when present and not empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(Node::value)
    }

    /// The pointer a child called `name` has or would have (for reporting a missing one).
    pub fn pointer_of(&self, name: &str) -> String {
        match self.child(name) {
            Some(c) => c.pointer.clone(),
            None => format!("{}/{name}", self.pointer),
        }
    }

    /// Fills in the pointers below this node, numbering repeated names. Children are few, so
    /// linear scans beat hashing here (this runs for every element of a large stock list).
    fn assign_child_pointers(&mut self) {
        let base = std::mem::take(&mut self.pointer);
        for i in 0..self.children.len() {
            let name = &self.children[i].name;
            let before = self.children[..i]
                .iter()
                .filter(|c| &c.name == name)
                .count();
            let repeated = before > 0 || self.children[i + 1..].iter().any(|c| &c.name == name);
            let pointer = if repeated {
                format!("{base}/{name}[{}]", before + 1)
            } else {
                format!("{base}/{name}")
            };
            let child = &mut self.children[i];
            child.pointer = pointer;
            if !child.children.is_empty() {
                child.assign_child_pointers();
            }
        }
        self.pointer = base;
    }
}

/// The start of an element met while streaming.
#[derive(Debug, Clone)]
pub struct Start {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// `<x/>`: there is nothing inside and no end tag to wait for.
    pub empty: bool,
    /// 1-based position among the siblings of the same name seen so far.
    pub position: usize,
    parent_pointer: String,
}

impl Start {
    /// The pointer with the position always written: used for records.
    pub fn indexed_pointer(&self) -> String {
        format!("{}/{}[{}]", self.parent_pointer, self.name, self.position)
    }

    /// The pointer with the position written only past the first: used for containers.
    pub fn plain_pointer(&self) -> String {
        if self.position > 1 {
            self.indexed_pointer()
        } else {
            format!("{}/{}", self.parent_pointer, self.name)
        }
    }
}

struct Frame {
    pointer: String,
    /// How many children of each name were seen (few names: a vector is enough).
    counts: Vec<(String, usize)>,
}

/// A pull cursor over one XML document.
pub struct XmlCursor {
    reader: Reader<Box<dyn BufRead>>,
    buf: Vec<u8>,
    open: Vec<Frame>,
    /// Set by `descend` on an empty element: the next `next_child` reports its end at once.
    pending_end: bool,
}

enum Raw {
    Start(BytesStartOwned),
    End,
    Text(String),
    Eof,
}

struct BytesStartOwned {
    name: String,
    attrs: Vec<(String, String)>,
    empty: bool,
}

impl XmlCursor {
    pub fn new(input: Box<dyn BufRead>) -> Self {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().check_end_names = true;
        XmlCursor {
            reader,
            buf: Vec::with_capacity(8 * 1024),
            open: Vec::new(),
            pending_end: false,
        }
    }

    fn syntax(&self, what: impl std::fmt::Display) -> ReadError {
        ReadError::Syntax(format!(
            "{what} (near byte {} of the document as UTF-8)",
            self.reader.buffer_position()
        ))
    }

    fn map_err(&self, e: quick_xml::Error) -> ReadError {
        match e {
            quick_xml::Error::Io(io) => ReadError::Io(io::Error::new(io.kind(), io.to_string())),
            quick_xml::Error::Encoding(e) => ReadError::Encoding(format!(
                "the bytes are not valid UTF-8 although the document declares no other encoding: {e}"
            )),
            other => ReadError::Syntax(format!(
                "{other} (near byte {} of the document as UTF-8)",
                self.reader.error_position()
            )),
        }
    }

    fn start_of(&self, e: &BytesStart<'_>, empty: bool) -> Result<BytesStartOwned, ReadError> {
        let name = std::str::from_utf8(e.name().as_ref())
            .map_err(|_| ReadError::Encoding("an element name is not valid UTF-8".into()))?
            .to_string();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.syntax(format!("bad attribute in <{name}>: {err}")))?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a.unescape_value().map_err(|err| self.map_err(err))?;
            attrs.push((key, value.into_owned()));
        }
        Ok(BytesStartOwned { name, attrs, empty })
    }

    /// The next event that matters for the tree: element starts and ends, and text.
    fn next_raw(&mut self) -> Result<Raw, ReadError> {
        loop {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let raw = match self.reader.read_event_into(&mut buf) {
                Ok(ev) => self.raw_of(ev),
                Err(e) => Err(self.map_err(e)),
            };
            self.buf = buf;
            match raw? {
                Some(r) => return Ok(r),
                None => continue,
            }
        }
    }

    fn raw_of(&self, ev: Event<'_>) -> Result<Option<Raw>, ReadError> {
        Ok(Some(match ev {
            Event::Start(e) => Raw::Start(self.start_of(&e, false)?),
            Event::Empty(e) => Raw::Start(self.start_of(&e, true)?),
            Event::End(_) => Raw::End,
            Event::Text(t) => Raw::Text(
                t.decode()
                    .map_err(|e| ReadError::Encoding(format!("invalid text: {e}")))?
                    .into_owned(),
            ),
            Event::CData(t) => Raw::Text(
                t.decode()
                    .map_err(|e| ReadError::Encoding(format!("invalid CDATA: {e}")))?
                    .into_owned(),
            ),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| {
                            ReadError::Encoding(format!("invalid entity name: {e}"))
                        })?;
                        match resolve_predefined_entity(&name) {
                            Some(s) => s.to_string(),
                            None => return Err(self.syntax(format!("undefined entity &{name};"))),
                        }
                    }
                    Err(e) => return Err(self.syntax(format!("bad character reference: {e}"))),
                };
                Raw::Text(resolved)
            }
            Event::Eof => Raw::Eof,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {
                return Ok(None)
            }
        }))
    }

    /// Reads up to the document's root element. Text other than white space before it is an
    /// error, as is a document without any element. The caller then either `descend`s into the
    /// root to stream its children or reads it whole with `read_node`.
    pub fn root(&mut self) -> Result<Start, ReadError> {
        loop {
            match self.next_raw()? {
                Raw::Start(s) => {
                    return Ok(Start {
                        name: s.name,
                        attrs: s.attrs,
                        empty: s.empty,
                        position: 1,
                        parent_pointer: String::new(),
                    })
                }
                Raw::Text(t) if t.trim().is_empty() => continue,
                Raw::Text(t) => {
                    return Err(self.syntax(format!(
                        "text before the root element: \"{}\"",
                        t.trim().chars().take(40).collect::<String>()
                    )))
                }
                Raw::End => return Err(self.syntax("an end tag before any element")),
                Raw::Eof => return Err(self.syntax("the document has no element")),
            }
        }
    }

    /// The next child element of the innermost open element, or `None` when that element ends.
    /// Text between children is skipped.
    pub fn next_child(&mut self) -> Result<Option<Start>, ReadError> {
        if self.pending_end {
            self.pending_end = false;
            self.open.pop();
            return Ok(None);
        }
        loop {
            match self.next_raw()? {
                Raw::Start(s) => {
                    let frame = self
                        .open
                        .last_mut()
                        .expect("next_child is only called inside an open element");
                    let position = match frame.counts.iter_mut().find(|(n, _)| *n == s.name) {
                        Some((_, c)) => {
                            *c += 1;
                            *c
                        }
                        None => {
                            frame.counts.push((s.name.clone(), 1));
                            1
                        }
                    };
                    return Ok(Some(Start {
                        name: s.name,
                        attrs: s.attrs,
                        empty: s.empty,
                        position,
                        parent_pointer: frame.pointer.clone(),
                    }));
                }
                Raw::End => {
                    self.open.pop();
                    return Ok(None);
                }
                Raw::Text(_) => continue,
                Raw::Eof => return Err(self.unclosed()),
            }
        }
    }

    fn unclosed(&self) -> ReadError {
        let inside = self
            .open
            .last()
            .map(|f| f.pointer.clone())
            .unwrap_or_default();
        self.syntax(format!("the document ends inside {inside}"))
    }

    /// Makes `start` (just returned by `next_child`) the element whose children come next.
    pub fn descend(&mut self, start: &Start) {
        self.pending_end = start.empty;
        self.open.push(Frame {
            pointer: start.plain_pointer(),
            counts: Vec::new(),
        });
    }

    /// Skips the element `start` and everything inside it, one element at a time (bounded
    /// memory, whatever its size).
    pub fn skip(&mut self, start: &Start) -> Result<(), ReadError> {
        self.descend(start);
        let mut depth = 1;
        while depth > 0 {
            match self.next_child()? {
                Some(s) => {
                    self.descend(&s);
                    depth += 1;
                }
                None => depth -= 1,
            }
        }
        Ok(())
    }

    /// Reads the whole element `start` into a tree; `pointer` is what it will be called.
    pub fn read_node(&mut self, start: Start, pointer: String) -> Result<Node, ReadError> {
        let mut root = Node {
            name: start.name,
            attrs: start.attrs,
            pointer,
            ..Node::default()
        };
        if !start.empty {
            // Path of child indices from `root` to the element being filled.
            let mut path: Vec<usize> = Vec::new();
            loop {
                match self.next_raw()? {
                    Raw::Start(s) => {
                        let parent = node_at(&mut root, &path);
                        parent.children.push(Node {
                            name: s.name,
                            attrs: s.attrs,
                            ..Node::default()
                        });
                        if !s.empty {
                            path.push(parent.children.len() - 1);
                        }
                    }
                    Raw::Text(t) => node_at(&mut root, &path).text.push_str(&t),
                    Raw::End => {
                        let done = node_at(&mut root, &path);
                        done.text = done.text.trim().to_string();
                        if path.pop().is_none() {
                            break;
                        }
                    }
                    Raw::Eof => return Err(self.unclosed()),
                }
            }
        }
        root.assign_child_pointers();
        Ok(root)
    }

    /// Checks that nothing but white space follows the root element.
    pub fn finish(&mut self) -> Result<(), ReadError> {
        if !self.open.is_empty() {
            return Err(self.unclosed());
        }
        loop {
            match self.next_raw()? {
                Raw::Eof => return Ok(()),
                Raw::Text(t) if t.trim().is_empty() => continue,
                Raw::Text(t) => {
                    return Err(self.syntax(format!(
                        "text after the root element: \"{}\"",
                        t.trim().chars().take(40).collect::<String>()
                    )))
                }
                Raw::Start(s) => {
                    return Err(self.syntax(format!(
                        "a second root element <{}> after the first one",
                        s.name
                    )))
                }
                Raw::End => return Err(self.syntax("an end tag after the root element")),
            }
        }
    }
}

fn node_at<'a>(root: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut n = root;
    for &i in path {
        n = &mut n.children[i];
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(bytes: &'static [u8]) -> XmlCursor {
        XmlCursor::new(utf8_stream(bytes).unwrap())
    }

    #[test]
    fn declared_encodings_are_found_and_limited() {
        assert_eq!(
            declared_encoding("<?xml version='1.0' encoding = 'windows-1251'"),
            Some("windows-1251".into())
        );
        assert_eq!(declared_encoding("<?xml version=\"1.0\""), None);
        let mut r: &[u8] = b"<?xml version=\"1.0\" encoding=\"cp1251\"?><a/>";
        assert_eq!(sniff_encoding(&mut r).unwrap(), SourceEncoding::Windows1251);
        let mut r: &[u8] = b"<?xml version=\"1.0\" encoding=\"ISO-8859-5\"?><a/>";
        assert!(matches!(
            sniff_encoding(&mut r),
            Err(ReadError::Encoding(_))
        ));
        let mut r: &[u8] = b"\xEF\xBB\xBF<a/>";
        assert_eq!(sniff_encoding(&mut r).unwrap(), SourceEncoding::Utf8);
        assert_eq!(r, b"<a/>", "the byte-order mark is consumed");
    }

    #[test]
    fn the_transcoder_survives_tiny_reads() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Склад №1");
        let mut t = Transcoder::new(&bytes[..], encoding_rs::WINDOWS_1251);
        let mut out = Vec::new();
        let mut one = [0u8; 1];
        while t.read(&mut one).unwrap() == 1 {
            out.push(one[0]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), "Склад №1");
    }

    #[test]
    fn nodes_get_pointers_and_entities_resolve() {
        let mut c =
            cursor(b"<r><x a=\"1\"><p>&lt;&#x439;&gt;</p><q/><q>2</q></x><x><p>3</p></x></r>");
        let root = c.root().unwrap();
        c.descend(&root);
        let s = c.next_child().unwrap().unwrap();
        let ptr = s.indexed_pointer();
        let n = c.read_node(s, ptr).unwrap();
        assert_eq!(n.pointer, "/r/x[1]");
        assert_eq!(n.attr("a"), Some("1"));
        assert_eq!(n.text_of("p"), Some("<й>"));
        assert_eq!(n.children[1].pointer, "/r/x[1]/q[1]");
        assert_eq!(n.children[2].pointer, "/r/x[1]/q[2]");
        assert_eq!(n.child("p").unwrap().pointer, "/r/x[1]/p");
        let s = c.next_child().unwrap().unwrap();
        assert_eq!(s.position, 2);
        let ptr = s.indexed_pointer();
        c.read_node(s, ptr).unwrap();
        assert!(c.next_child().unwrap().is_none());
        c.finish().unwrap();
    }

    #[test]
    fn trailing_content_and_undefined_entities_are_errors() {
        let mut c = cursor(b"<r/><r/>");
        let root = c.root().unwrap();
        c.read_node(root, "/r".into()).unwrap();
        assert!(matches!(c.finish(), Err(ReadError::Syntax(_))));
        let mut c = cursor(b"<r>&nbsp;</r>");
        let root = c.root().unwrap();
        assert!(matches!(
            c.read_node(root, "/r".into()),
            Err(ReadError::Syntax(m)) if m.contains("nbsp")
        ));
    }
}
