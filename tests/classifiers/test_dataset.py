from pathlib import Path

import pytest

from classifiers.dataset import LabelledRows, read_labelled_csv, require_several_classes
from classifiers.errors import DatasetError
from core.errors import InvalidInput

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"


def _write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_reads_texts_and_labels_by_column_name(tmp_path: Path) -> None:
    path = _write(tmp_path, 'id,text,dept\n1,噪音扰民,城管\n2,"车辆违停,堵路",交警\n')
    texts, labels = read_labelled_csv(path, "text", "dept")
    assert texts == ["噪音扰民", "车辆违停,堵路"]
    assert labels == ["城管", "交警"]


def test_reads_the_hotline_training_file() -> None:
    rows = read_labelled_csv(TRAIN_CSV, "诉求内容", "处置单位", for_training=True)
    assert isinstance(rows, LabelledRows)
    assert len(rows.texts) == len(rows.labels) == 5559 - rows.skipped_rows
    assert len(set(rows.labels)) == 127
    assert all(t.strip() and lab.strip() for t, lab in zip(rows.texts, rows.labels, strict=True))


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufefftext,dept\n噪音,城管\n")
    assert read_labelled_csv(path, "text", "dept") == (["噪音"], ["城管"])


def test_rows_without_text_or_label_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "text,dept\n噪音,城管\n  ,交警\n违停,\n违停,交警\n")
    rows = read_labelled_csv(path, "text", "dept")
    assert rows == (["噪音", "违停"], ["城管", "交警"])
    assert rows.skipped_rows == 2


def test_only_empty_rows_is_an_error_that_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "text,dept\n,城管\n噪音,\n")
    with pytest.raises(DatasetError, match="all 2 rows lack a text"):
        read_labelled_csv(path, "text", "dept")


def test_a_missing_column_names_the_columns_that_exist(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,content,dept\n1,噪音,城管\n")
    with pytest.raises(DatasetError, match="no column 'text'; its columns are: id, content, dept"):
        read_labelled_csv(path, "text", "dept")


def test_a_file_without_header_is_reported_as_missing_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "噪音扰民,城管\n违停,交警\n")
    with pytest.raises(DatasetError, match="its columns are: 噪音扰民, 城管"):
        read_labelled_csv(path, "text", "dept")


def test_an_empty_first_line_means_no_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ntext,dept\n噪音,城管\n")
    with pytest.raises(DatasetError, match="no header row"):
        read_labelled_csv(path, "text", "dept")


def test_an_empty_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, b"")
    with pytest.raises(DatasetError, match="is empty"):
        read_labelled_csv(path, "text", "dept")


def test_a_header_without_rows_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "text,dept\n")
    with pytest.raises(DatasetError, match="header but no rows"):
        read_labelled_csv(path, "text", "dept")


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_labelled_csv(tmp_path / "nope.csv", "text", "dept")


def test_a_folder_is_reported_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="is a directory, not a CSV file"):
        read_labelled_csv(tmp_path, "text", "dept")


def test_a_gbk_file_is_reported_as_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "text,dept\n噪音扰民,城管\n".encode("gbk"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_labelled_csv(path, "text", "dept")


def test_training_needs_two_classes(tmp_path: Path) -> None:
    path = _write(tmp_path, "text,dept\n噪音,城管\n占道经营,城管\n")
    assert read_labelled_csv(path, "text", "dept").labels == ["城管", "城管"]
    with pytest.raises(DatasetError, match=r"1 label \('城管'\); training needs at least two"):
        read_labelled_csv(path, "text", "dept", for_training=True)


def test_require_several_classes_accepts_two() -> None:
    require_several_classes(["城管", "交警"])
    with pytest.raises(DatasetError):
        require_several_classes([])


def test_dataset_errors_are_invalid_input() -> None:
    assert issubclass(DatasetError, InvalidInput)
    assert DatasetError("x").status_code == 422
