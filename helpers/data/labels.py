"""Reading valence-arousal labels in the original dataset's forms.

1. A CSV with one row per image: by default the original ``all_photos_valence_arousal.csv``
   with header ``image,valence,arousal`` (integer ids, VA on 1-9). Other column names are
   chosen by argument; the id column may also hold file names (``42.jpg``).
2. CGnA10766's raw form: two text files (``valence_avg_10766_v2.txt`` and
   ``arousal_avg_10766_v2.txt``), one number per line; line N (counting from 1) belongs to
   image ``N.jpg``.

Every row that cannot become a correct label is returned as a ``Skipped`` entry that names
the file, the row and what to do; nothing is silently guessed.
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from helpers.va import RATING_MAX, RATING_MIN


class LabelError(ValueError):
    """The label source cannot be used at all (missing file or column): nothing to skip around."""


@dataclass(frozen=True)
class Skipped:
    item: str  # a file name or "labels.csv row 12"
    reason: str


def image_key(name: str) -> str:
    """The key that joins a label to an image file: the file name without its extension.

    ``"42.jpg"``, ``"42"`` and ``"042.png"`` -> ``"42"`` when numeric (ids are integers in the
    original CSV), else the stem unchanged.
    """
    stem = Path(str(name).strip()).stem if "." in str(name) else str(name).strip()
    return str(int(stem)) if stem.isdigit() else stem


def _parse_rating(text: str):
    """A 1-9 rating, or a reason why the text is not one."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None, f"not a number: {text!r}"
    if math.isnan(value) or not RATING_MIN <= value <= RATING_MAX:
        return None, f"outside {RATING_MIN:g}-{RATING_MAX:g}: {text!r}"
    return value, None


def read_labels_csv(path, id_column="image", valence_column="valence", arousal_column="arousal"):
    """Read a label CSV. Returns ({key: (valence, arousal)}, [Skipped]).

    Raises ``LabelError`` when the file is missing, empty, or lacks a named column.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"label file not found: {path}. Pass the CSV with --labels (header image,valence,arousal).")
    labels, skipped, duplicated = {}, [], set()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [column.strip() for column in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in (id_column, valence_column, arousal_column) if c not in header]
        if missing:
            raise LabelError(
                f"{path}: missing column(s) {', '.join(missing)}; the header is {', '.join(header) or '(empty)'}. "
                f"Name the columns with --id-column/--valence-column/--arousal-column."
            )
        for line_number, row in enumerate(reader, start=2):  # line 1 is the header
            where = f"{path.name} row {line_number}"
            key_text = (row.get(id_column) or "").strip()
            if not key_text:
                skipped.append(Skipped(where, f"empty {id_column!r}; fill it in or delete the row"))
                continue
            key = image_key(key_text)
            valence, v_problem = _parse_rating(row.get(valence_column))
            arousal, a_problem = _parse_rating(row.get(arousal_column))
            if v_problem or a_problem:
                problem = "; ".join(p for p in (v_problem and f"valence {v_problem}", a_problem and f"arousal {a_problem}") if p)
                skipped.append(Skipped(where, f"{problem}; ratings must be numbers from 1 to 9"))
                continue
            if key in labels or key in duplicated:
                skipped.append(Skipped(where, f"duplicate id {key_text!r}: two rows label one image, so neither is used; keep one row"))
                duplicated.add(key)
                continue
            labels[key] = (valence, arousal)
    for key in duplicated:
        labels.pop(key, None)
    return labels, skipped


def _read_number_lines(path: Path):
    if not path.is_file():
        raise LabelError(f"label file not found: {path}. Pass it with --valence-file/--arousal-file.")
    with open(path, encoding="utf-8-sig") as handle:
        return [line.strip() for line in handle]


def read_label_files(valence_file, arousal_file):
    """Read CGnA10766's raw form: line N of each file belongs to image ``N.jpg``.

    Returns ({key: (valence, arousal)}, [Skipped], line_count).
    """
    valence_file, arousal_file = Path(valence_file), Path(arousal_file)
    valence_lines = _read_number_lines(valence_file)
    arousal_lines = _read_number_lines(arousal_file)
    while valence_lines and not valence_lines[-1]:
        valence_lines.pop()
    while arousal_lines and not arousal_lines[-1]:
        arousal_lines.pop()
    if not valence_lines:
        raise LabelError(f"{valence_file} is empty: it should hold one valence rating per line.")
    labels, skipped = {}, []
    for index in range(max(len(valence_lines), len(arousal_lines))):
        number = index + 1
        where = f"line {number} ({number}.jpg)"
        if index >= len(valence_lines) or index >= len(arousal_lines):
            short = valence_file if index >= len(valence_lines) else arousal_file
            skipped.append(Skipped(where, f"{short.name} has only {min(len(valence_lines), len(arousal_lines))} lines; add the missing rating"))
            continue
        valence, v_problem = _parse_rating(valence_lines[index])
        arousal, a_problem = _parse_rating(arousal_lines[index])
        if v_problem or a_problem:
            problem = "; ".join(p for p in (v_problem and f"{valence_file.name} {v_problem}", a_problem and f"{arousal_file.name} {a_problem}") if p)
            skipped.append(Skipped(where, f"{problem}; ratings must be numbers from 1 to 9"))
            continue
        labels[str(number)] = (valence, arousal)
    return labels, skipped, max(len(valence_lines), len(arousal_lines))
