"""Reading milestone files safely: UTF-8 only, bounded size, no tags, no anchors, every scalar text.

PyYAML's loaders turn unquoted `no` into False, `1:30` into 90 and `~` into None, keep the last
of two repeated keys, and expand aliases (the "billion laughs" bomb). This reader only composes
the node tree (nothing is constructed, so no tag can run code), resolves every scalar to the
text it was written as, and records where each value sits so a problem can name its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

from chronicle.loader.problems import FileProblem, Path_, field_name

MAX_FILE_BYTES = 1024 * 1024
MAX_LISTED_BAD_BYTES = 10
MAX_DEPTH = 20
MAX_VALUES = 50_000
"""Values (scalars, lists, mappings) in one file: the data set's largest file has ~400, a full
1 MiB of milestones ~30,000; a flood of `- {}` lines (200,000) is refused before it is checked."""
_STR_TAG = "tag:yaml.org,2002:str"
_YAML_TAG_PREFIX = "tag:yaml.org,2002:"

# Characters that have no business in a text file: C0/C1 controls other than tab and line
# breaks, DEL, and Unicode noncharacters. PyYAML would stop at the first; we list them all.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_RAW_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_NONCHARACTERS}]")


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar exactly as written; `plain` when unquoted (the only style YAML reinterprets)."""

    text: str
    plain: bool
    line: int


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Value, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A mapping's value with the line of its key, which is where editors look for a field."""

    key_line: int
    value: Value


@dataclass(frozen=True, slots=True)
class Map:
    entries: dict[str, Entry]
    line: int


Value = Scalar | Seq | Map


@dataclass
class Document:
    """One file as read: its root value (None when unreadable) and the problems found so far."""

    file: str
    root: Value | None
    problems: list[FileProblem] = field(default_factory=list)
    refused: set[Path_] = field(default_factory=set)
    """Paths already reported (refused tags, aliases...): later checks stay quiet about them."""


class _TooManyValues(ComposerError):
    """The file is too big in values, not in bytes: a flood, refused as a whole."""


class _RefusingComposer(Composer):
    """Composes nodes without resolving aliases, noting tags, anchors and aliases as refused.

    Refusals are noted per node rather than raised, so one pass reports all of them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refusals: dict[int, list[str]] = {}
        self.depth = 0
        self.values = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self.depth += 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooManyValues(None, None, f"holds more than {MAX_VALUES} values; split it "
                                 "into several files", self.peek_event().start_mark)
        try:
            return self._compose_node(parent, index)
        finally:
            self.depth -= 1

    def _compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.depth > MAX_DEPTH:  # milestone files nest 5 deep; this stops a stack overflow
            raise ComposerError(None, None, f"values nested more than {MAX_DEPTH} levels deep",
                                self.peek_event().start_mark)
        if self.check_event(AliasEvent):
            alias = self.get_event()
            node: Node = ScalarNode(_STR_TAG, "", alias.start_mark, alias.end_mark)
            self.refusals[id(node)] = [
                f"YAML alias *{alias.anchor} is not allowed; write the value out in full"
            ]
            return node
        event = self.peek_event()
        self.descend_resolver(parent, index)
        if self.check_event(ScalarEvent):
            node = self.compose_scalar_node(None)
        elif self.check_event(SequenceStartEvent):
            node = self.compose_sequence_node(None)
        else:
            node = self.compose_mapping_node(None)
        self.ascend_resolver()
        reasons = []
        if event.anchor is not None:
            reasons.append(f"YAML anchor &{event.anchor} is not allowed; write values out in full")
        if event.tag is not None:
            reasons.append(f"YAML tag {_written_tag(event.tag)} is not allowed; remove it "
                           "(and quote the text)")
        if reasons:
            self.refusals[id(node)] = reasons
        return node



class _PyTextLoader(_RefusingComposer, Reader, Scanner, Parser, BaseResolver):
    """The composer over PyYAML's pure-Python parser.

    BaseResolver has no implicit resolvers: every scalar stays the text it was written as,
    like a SafeLoader with its resolvers removed.
    """

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _RefusingComposer.__init__(self)
        BaseResolver.__init__(self)


if CParser is not None:
    class _CTextLoader(_RefusingComposer, CParser, BaseResolver):
        """The same over libyaml's parser: about ten times faster, same nodes and marks."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _RefusingComposer.__init__(self)
            BaseResolver.__init__(self)

_TextLoader = _PyTextLoader if CParser is None else _CTextLoader

def _written_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG_PREFIX):] if tag.startswith(_YAML_TAG_PREFIX) else tag


class _Converter:
    """Turns composed nodes into positioned values, noting refusals and repeated keys."""

    def __init__(self, file: str, refusals: dict[int, list[str]]) -> None:
        self.file = file
        self.refusals = refusals
        self.problems: list[FileProblem] = []
        self.refused: set[Path_] = set()
        self.scalar_spans: list[tuple[int, int, Path_]] = []

    def problem(self, line: int, path: Path_, message: str, *, refuse: bool = True) -> None:
        self.problems.append(FileProblem(self.file, line, field_name(path), message))
        if refuse:
            self.refused.add(path)

    def convert(self, node: Node, path: Path_) -> Value:
        line = node.start_mark.line + 1
        for reason in self.refusals.get(id(node), ()):
            self.problem(line, path, reason)
        if isinstance(node, ScalarNode):
            self.scalar_spans.append((node.start_mark.index, node.end_mark.index, path))
            return Scalar(node.value, not node.style, line)  # libyaml: '', PyYAML: None
        if isinstance(node, SequenceNode):
            items = tuple(self.convert(item, (*path, i)) for i, item in enumerate(node.value))
            return Seq(items, line)
        assert isinstance(node, MappingNode)
        return Map(self._entries(node, path), line)

    def _entries(self, node: MappingNode, path: Path_) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problem(key_line, path, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value
            for reason in self.refusals.get(id(key_node), ()):
                self.problem(key_line, (*path, key), reason)
            value = self.convert(value_node, (*path, key))
            if key in entries:
                self.problem(key_line, (*path, key),
                             f"repeated key '{key}' (first at line {entries[key].key_line}); "
                             "YAML would silently keep only the last one", refuse=False)
                continue
            entries[key] = Entry(key_line, value)
        return entries

    def field_at(self, index: int) -> str:
        """The innermost scalar covering a character index, for problems found in raw text."""
        covering = [(end - start, path) for start, end, path in self.scalar_spans
                    if start <= index < end]
        return field_name(min(covering)[1]) if covering else "text"


def read_document(path: Path, file: str) -> Document:
    """Read one file; the document's problems cover size, encoding, characters and YAML."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return Document(file, None, [FileProblem(file, 0, "file", f"cannot read: {error}")])
    if len(data) > MAX_FILE_BYTES:
        size = path.stat().st_size
        return Document(file, None, [FileProblem(
            file, 1, "file", f"is {size} bytes; the limit is {MAX_FILE_BYTES} bytes (1 MiB): "
            "split it into several files")])
    text, problems = _decode(data, file)
    if text is None:
        return Document(file, None, problems)
    return parse_text(text.removeprefix("\ufeff"), file)


def _decode(data: bytes, file: str) -> tuple[str | None, list[FileProblem]]:
    """Strict UTF-8, listing every undecodable byte sequence (up to a bound) with its place."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    problems: list[FileProblem] = []
    offset = 0
    while offset < len(data) and len(problems) < MAX_LISTED_BAD_BYTES:
        try:
            data[offset:].decode("utf-8")
            break
        except UnicodeDecodeError as error:
            bad = offset + error.start
            line = data.count(b"\n", 0, bad) + 1
            column = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
            problems.append(FileProblem(
                file, line, "encoding", f"not UTF-8: byte 0x{data[bad]:02x} at offset {bad} "
                f"(line {line}, column {column}) is not valid UTF-8; save the file as UTF-8"))
            offset = offset + error.end
    return None, problems


def parse_text(text: str, file: str, *, pure_python: bool = False) -> Document:
    """Parse decoded text; `pure_python` picks PyYAML's own parser even when libyaml is there."""
    raw = list(_RAW_FORBIDDEN.finditer(text))
    cleaned = _RAW_FORBIDDEN.sub("\ufffd", text) if raw else text
    loader = _PyTextLoader(cleaned) if pure_python else _TextLoader(cleaned)
    try:
        node = loader.get_single_node()
    except (yaml.YAMLError, RecursionError) as error:
        return Document(file, None, [_parse_problem(file, cleaned, error)])
    finally:
        loader.dispose()
    if node is None:
        return Document(file, None, [FileProblem(
            file, 1, "file", "is empty; expected 'milestones:' followed by a list")])
    converter = _Converter(file, loader.refusals)
    root = converter.convert(node, ())
    problems = [_raw_character_problem(file, text, match.start(), converter) for match in raw]
    return Document(file, root, problems + converter.problems, converter.refused)


def _raw_character_problem(file: str, text: str, index: int, converter: _Converter) -> FileProblem:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    code = ord(text[index])
    kind = "a noncharacter" if code > 0x9F else "a control character"
    return FileProblem(file, line, converter.field_at(index),
                       f"contains {kind} (U+{code:04X} at column {column}); remove it")


def _parse_problem(file: str, text: str, error: yaml.YAMLError | RecursionError) -> FileProblem:
    """Why the parser stopped, in our words where we know better than the parser's version.

    Too deep a nesting and tab indentation are named by us whatever PyYAML or libyaml say
    (their messages and limits change between versions); other errors keep the parser's words.
    """
    if isinstance(error, _TooManyValues) and error.problem_mark is not None:
        return FileProblem(file, error.problem_mark.line + 1, "file", str(error.problem))
    too_deep = _nesting_deeper_than(text, MAX_DEPTH)
    if too_deep:
        return FileProblem(file, too_deep, "yaml",
                           f"invalid YAML: values nested more than {MAX_DEPTH} levels deep")
    tabbed = [number for number, line in enumerate(text.splitlines(), 1)
              if _TAB_INDENT.match(line)]
    if tabbed:
        more = f" (and {len(tabbed) - 1} more lines)" if len(tabbed) > 1 else ""
        return FileProblem(file, tabbed[0], "yaml", "invalid YAML: YAML forbids tabs for "
                           f"indentation; indent with spaces{more}")
    if isinstance(error, yaml.MarkedYAMLError):
        return _syntax_problem(file, error)
    return FileProblem(file, 0, "yaml", f"invalid YAML: {error}")


_TAB_INDENT = re.compile(r" *\t")
_FLOW_TOKENS = re.compile(r"""[\[\]{}]|(?:^|(?<=\s))#|(?:^|(?<=[\s\[{,:]))["']""")


def _nesting_deeper_than(text: str, limit: int) -> int:
    """The line where flow brackets nest deeper than `limit`, or 0.

    A scan of our own, outside quoted text and comments, so the answer never depends on
    the parser's own limits (libyaml stops at 1000 with its own words, PyYAML recurses).
    """
    depth, index = 0, 0
    while match := _FLOW_TOKENS.search(text, index):
        char, index = match.group(), match.end()
        if char in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#":
            index = _end_of(text, index, "\n")
        elif char == '"':
            index = _end_of_double_quoted(text, index)
        elif char == "'":
            index = _end_of(text, index, "'")
    return 0


def _end_of(text: str, start: int, closing: str) -> int:
    end = text.find(closing, start)
    return len(text) if end < 0 else end + 1


def _end_of_double_quoted(text: str, start: int) -> int:
    while (end := text.find('"', start)) >= 0:
        backslashes = len(text[start:end]) - len(text[start:end].rstrip("\\"))
        if backslashes % 2 == 0:
            return end + 1
        start = end + 1
    return len(text)


def _syntax_problem(file: str, error: yaml.MarkedYAMLError) -> FileProblem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 0
    message = error.problem or "invalid YAML"
    if error.context:
        context_line = error.context_mark.line + 1 if error.context_mark else line
        message += f" ({error.context}, line {context_line})"
    return FileProblem(file, line, "yaml", f"invalid YAML: {message}")


# YAML 1.1 (PyYAML's resolver) plus what YAML 1.1's spec and YAML 1.2 add: y/n booleans,
# exponents without a dot (1e3), 0o17 octals.
_RESOLVER_1_1 = yaml.resolver.Resolver()
_BOOLEAN_EXTRA = re.compile(r"[yYnN]")
_NUMBER_EXTRA = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+")
_KINDS = {"bool": "a boolean", "int": "a number", "float": "a number", "null": "null (no value)",
          "timestamp": "a date", "merge": "a merge key", "value": "a default value"}


def implicit_kind(text: str) -> str | None:
    """What other YAML readers make of this unquoted text, when it is not text; else None."""
    tag = _RESOLVER_1_1.resolve(ScalarNode, text, (True, False))
    kind = _KINDS.get(tag.rsplit(":", 1)[-1])
    if kind is not None:
        return kind
    if _BOOLEAN_EXTRA.fullmatch(text):
        return "a boolean"
    return "a number" if _NUMBER_EXTRA.fullmatch(text) else None
