"""Columnar CSV reading and writing with pyarrow (the fast path of :mod:`skywarden.tables`).

``pyarrow.csv`` parses and formats whole columns in C++ on several threads: about 20x faster
than ``numpy.loadtxt`` and the ``csv`` module on the detection and track tables, which made
``skywarden track`` spend more time on its files than on tracking.

This module only moves numbers: it returns ``None`` (read) when pyarrow cannot read the file
as clean numeric columns, and then :mod:`skywarden.tables` reads it the slow way, which names
the first bad line. Written floats are the shortest text that reads back to the same float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def read_float_columns(path: Path, names: Sequence[str]) -> np.ndarray | None:
    """The named columns of a CSV as an (N, len(names)) float64 array, or None.

    None when the file is not plain numeric CSV for those columns (a field that is not a
    number, an empty field, a ragged row, bad UTF-8): the caller then reads it line by line.
    Empty lines are skipped; a UTF-8 byte order mark is allowed.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"'),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(names),
                column_types={name: pa.float64() for name in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError, pa.ArrowTypeError, UnicodeDecodeError, OSError):
        return None
    out = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for i, name in enumerate(names):
        column = table.column(name)
        if column.null_count:
            return None
        out[:, i] = column.to_numpy()
    return out


def write_columns(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    """Write (N,) columns under their names: floats shortest round-trip, ints, strings."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    arrays = []
    for values in columns.values():
        array = np.asarray(values)
        if array.dtype == object:
            arrays.append(pa.array([str(v) for v in array.tolist()], type=pa.string()))
        else:
            arrays.append(_numeric_column(pa, array))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    with Path(path).open("wb") as f:  # a plain header line, as the csv module writes it
        f.write((",".join(_header_field(name) for name in columns) + "\n").encode())
        pacsv.write_csv(
            table, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed")
        )


def _header_field(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def _numeric_column(pa, array: np.ndarray):
    """A pyarrow array of a 1-D NumPy column; ints and floats wrap its buffer (no copy when
    it is contiguous and native-endian) instead of going through ``pa.array``, whose first
    call imports ``numpy.ma`` (~15 ms of the command's fixed cost) to check for masks."""
    if array.dtype.kind in "iuf" and array.dtype.isnative and array.ndim == 1:
        array = np.ascontiguousarray(array)
        buffer = pa.py_buffer(array)
        return pa.Array.from_buffers(pa.from_numpy_dtype(array.dtype), array.size, [None, buffer])
    return pa.array(array)
