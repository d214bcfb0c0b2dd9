"""Structure of a Markdown document: sections by heading, bullets, tables, code blocks.

The input files are written by people and assistants, so spacing, bold markers and backticks
vary; markdown-it does the parsing and this module only walks its syntax tree. Raw source
text is kept next to the rendered text, because quoted values (prompts) must be read from
the source as written.

Blocks are parsed up front and inline markup only for the text the loader reads: a sweep's
summary has hundreds of table cells, and inline parsing all of it was a third of the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

# markdown-it's own splitter of table rows, to count the cells a row has as written.
from markdown_it.rules_block.table import escapedSplit

_BLOCKS = MarkdownIt("commonmark").enable("table").disable("inline")
_INLINE = MarkdownIt("commonmark")
# Text without these has no inline markup and reads as written. An underscore inside a word
# (r8_lr1e-5) never makes emphasis in CommonMark; one at a word's edge may.
_MARKUP = re.compile(r"[*`\\\[\]<>&!~\n]|(?<!\w)_|_(?!\w)")


def normalize(text: str) -> str:
    """A heading, label or column name reduced to what people mean by it."""
    text = re.sub(r"[*`]", "", text).lower()
    text = re.sub(r"\s+", " ", text)
    # Decorations at the ends ("Evaluation Tasks:", "📋 All Runs") carry no meaning.
    return re.sub(r"^\W+|\W+$", "", text)


def inline_text(source: str) -> str:
    """The text a reader sees in inline Markdown: markup dropped, code spans kept verbatim."""
    if not _MARKUP.search(source):
        return source.strip()
    return parsed_inline_text(source)


def parsed_inline_text(source: str) -> str:
    """inline_text without the shortcut for plain text: what markdown-it makes of it."""
    parts = []
    for token in _INLINE.parseInline(source)[0].children or []:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


@dataclass(slots=True)
class Block:
    """A block of the document: markdown-it's open/close token pairs folded into one node.

    Like markdown-it's SyntaxTreeNode, without the parent links: those make every parse
    cyclic garbage, and a sweep's summary is thousands of nodes that Python's collector then
    has to find, walking every object Copier holds.
    """

    type: str  # "heading", "paragraph", "bullet_list", "table", "tr", "td", "inline", "fence"…
    tag: str
    content: str
    line: int  # 0-based line of the source where it starts (-1: unknown)
    children: list[Block] = field(default_factory=list)


def _blocks(source: str) -> list[Block]:
    root: list[Block] = []
    stack = [root]
    for token in _BLOCKS.parse(source):
        line = token.map[0] if token.map else -1
        if token.nesting == 1:
            block = Block(token.type.removesuffix("_open"), token.tag, token.content, line)
            stack[-1].append(block)
            stack.append(block.children)
        elif token.nesting == -1:
            stack.pop()
        else:
            stack[-1].append(Block(token.type, token.tag, token.content, line))
    return root


@dataclass
class Bullet:
    raw: str  # the item's first paragraph as written, without the list marker
    children: list[Bullet] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The item as a reader sees it."""
        return inline_text(self.raw)

    @property
    def label(self) -> str:
        return normalize(split_label(self.raw)[0])

    @property
    def written_label(self) -> str:
        """The label as the file writes it ("Epochs to evaluate"), for messages."""
        return inline_text(split_label(self.raw)[0]).strip()

    @property
    def value(self) -> str:
        """The raw source after the label ("**Path**: `/x`" gives "`/x`")."""
        return split_label(self.raw)[1]


@dataclass
class Table:
    header: list[str]  # normalized column names
    rows: list[list[str]]  # plain text of each cell
    raw_header: list[str] = field(default_factory=list)  # the column names as a reader sees them
    raw_rows: list[list[str]] = field(default_factory=list)  # each cell's source, for paths
    row_lines: list[int] = field(default_factory=list)  # each row's line in the source
    source_lines: list[str] = field(default_factory=list, repr=False, compare=False)

    def column(self, *names: str) -> int | None:
        for name in names:
            if name in self.header:
                return self.header.index(name)
        return None

    def cells_written(self, row: int) -> int:
        """How many cells row `row` has in the source. markdown-it pads a short row with
        empty cells, and an empty cell may mean "no": a missing one must be told apart."""
        line = self.row_lines[row] if row < len(self.row_lines) else -1
        if not 0 <= line < len(self.source_lines):
            return len(self.header)
        # Split as markdown-it splits table rows.
        cells = escapedSplit(self.source_lines[line].strip())
        if cells and cells[0] == "":
            cells.pop(0)
        if cells and cells[-1] == "":
            cells.pop()
        return len(cells)


_LABEL = re.compile(
    r"""^\s*(?:
        (?P<mark>\*\*|__)(?P<bold>.+?)(?P=mark)\s*:?   # **Label**: or **Label:**
      | (?P<plain>[^:`"'*]+?)\s*:                      # Label:
    )\s*""",
    re.VERBOSE,
)


def split_label(raw: str) -> tuple[str, str]:
    """Split a bullet's raw text into its label and the raw value that follows it."""
    match = _LABEL.match(raw)
    if not match:
        return "", raw.strip()
    label = match.group("bold") if match.group("mark") else match.group("plain")
    return label.strip().rstrip(":"), raw[match.end() :].strip()


class Section:
    """The blocks under one heading, down to the next heading of the same or higher level."""

    def __init__(self, title: str, level: int, nodes: list[Block], lines: list[str]) -> None:
        self.title = title
        self.level = level
        self.nodes = nodes
        self.lines = lines  # the document's source lines

    def find_all(self, *titles: str) -> list[Section]:
        """Every sub-section, at any depth, whose heading is one of `titles`, in order."""
        wanted = {normalize(title) for title in titles}
        found = []
        for index, node in enumerate(self.nodes):
            if node.type == "heading" and normalize(_text_of(node)) in wanted:
                level = int(node.tag[1])
                end = next(
                    (
                        later
                        for later in range(index + 1, len(self.nodes))
                        if self.nodes[later].type == "heading"
                        and int(self.nodes[later].tag[1]) <= level
                    ),
                    len(self.nodes),
                )
                found.append(Section(_text_of(node), level, self.nodes[index + 1 : end], self.lines))
        return found

    def continued(self, title: str) -> list[Section]:
        """Every sub-section titled `title` or `title` with a remark: "All Runs (continued)",
        "All Runs – part 2". A table split under such headings is one table to its writer."""
        wanted = normalize(title)
        titles = {_text_of(node) for node in self.nodes if node.type == "heading"}
        return self.find_all(*(t for t in titles if re.fullmatch(rf"{re.escape(wanted)}(\W.*)?", normalize(t))))

    def subsections(self) -> list[Section]:
        """Every sub-section at any depth, in document order."""
        return self.find_all(*{_text_of(node) for node in self.nodes if node.type == "heading"})

    def find(self, *titles: str) -> Section | None:
        """The shallowest sub-section whose heading is one of `titles` (the first of those).

        Shallowest, because the October summaries have an `### Configuration` under
        `## Evaluation Plan` before the `## Configuration` section itself.
        """
        found = self.find_all(*titles)
        return min(found, key=lambda section: section.level) if found else None


    def own_nodes(self) -> list[Block]:
        """The blocks before the first sub-heading."""
        for index, node in enumerate(self.nodes):
            if node.type == "heading":
                return self.nodes[:index]
        return self.nodes

    def bullets(self) -> list[Bullet]:
        """Top-level bullets of this section's own text (not of its sub-sections)."""
        return [
            item
            for node in self.own_nodes()
            if node.type in ("bullet_list", "ordered_list")
            for item in _list_items(node)
        ]

    def bullet(self, *labels: str) -> Bullet | None:
        wanted = {normalize(label) for label in labels}
        return next((b for b in self.bullets() if b.label in wanted), None)

    def tables(self, leave_out: tuple[Section, ...] = ()) -> list[Table]:
        """Every table of this section, its sub-sections' included except `leave_out`'s."""
        left_out = {id(node) for section in leave_out for node in section.nodes}
        return [
            _table(node, self.lines)
            for node in self.nodes
            if node.type == "table" and id(node) not in left_out
        ]

    def code_blocks(self) -> list[str]:
        return [node.content for node in self.own_nodes() if node.type in ("fence", "code_block")]

    def text(self, deep: bool = False, leave_out: tuple[Section, ...] = ()) -> str:
        """The prose of this section's own text (with `deep`, its sub-sections' too, except
        those in `leave_out`): paragraphs and bullets, one per line."""
        left_out = {id(node) for section in leave_out for node in section.nodes}
        lines = []
        for node in self.nodes if deep else self.own_nodes():
            if id(node) in left_out:
                continue
            if node.type == "paragraph":
                lines.append(_text_of(node))
            elif node.type in ("bullet_list", "ordered_list"):
                lines.extend(_flatten(_list_items(node)))
        return "\n".join(lines)


class Document(Section):
    def __init__(self, source: str) -> None:
        super().__init__("", 0, _blocks(source), source.split("\n"))

    def title_line(self) -> str:
        """The text of the first level-1 heading, or ''."""
        heading = next((n for n in self.nodes if n.type == "heading" and n.tag == "h1"), None)
        return _text_of(heading) if heading else ""


def _text_of(block: Block) -> str:
    """The reader's text of a paragraph, heading or table cell (its one inline child)."""
    return inline_text(block.children[0].content) if block.children else ""


def _list_items(list_node: Block) -> list[Bullet]:
    items = []
    for item in list_node.children:
        paragraph = next((c for c in item.children if c.type == "paragraph"), None)
        inline = paragraph.children[0] if paragraph and paragraph.children else None
        children = [
            child
            for sub in item.children
            if sub.type in ("bullet_list", "ordered_list")
            for child in _list_items(sub)
        ]
        items.append(Bullet(inline.content if inline else "", children))
    return items


def _flatten(bullets: list[Bullet]) -> list[str]:
    lines = []
    for bullet in bullets:
        lines.append(bullet.text)
        lines.extend(_flatten(bullet.children))
    return lines


def _table(node: Block, lines: list[str]) -> Table:
    rows = [row for part in node.children for row in part.children]
    texts = [[_text_of(cell) for cell in row.children] for row in rows]
    header, *body = texts or [[]]
    raw = [[cell.children[0].content if cell.children else "" for cell in row.children] for row in rows[1:]]
    return Table([normalize(name) for name in header], body, header, raw, [row.line for row in rows[1:]], lines)
