import json
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from conftest import write_image
from helpers.cli import main
from helpers.config import DataConfig
from helpers.data import DataError, LabelError, load_dataset
from helpers.data.dataset import cache_path
from helpers.data.decode import decode_image
from helpers.va import rating_to_unit, unit_to_rating


def test_va_conversion_maps_the_rating_scale_onto_unit_interval():
    assert rating_to_unit(1.0) == 0.0 and rating_to_unit(9.0) == 1.0 and rating_to_unit(5.0) == 0.5
    values = np.array([1.0, 3.3, 7.9, 9.0])
    assert np.allclose(unit_to_rating(rating_to_unit(values)), values)


def test_csv_form_skips_rows_without_images_and_counts_them(csv_dataset):
    data = load_dataset(csv_dataset / "images", labels=csv_dataset / "labels.csv", size=16, progress=False)
    assert data.names == ["2.jpg", "4.jpg", "6.jpg", "8.jpg"]
    assert data.report.labels_without_image == 4
    assert data.report.skipped == []
    assert data.valence[1] == pytest.approx(1 + 4 * 0.9, abs=1e-4)  # 4.jpg got row 4
    assert data.images.shape == (4, 16, 16, 3) and data.images.dtype == np.uint8


def test_raw_form_gives_line_n_to_image_n(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for number in (2, 5, 7):  # a sparse id set
        write_image(images / f"{number}.jpg")
    valence = [f"{1 + line * 0.5:.2f}" for line in range(1, 8)]  # line N holds 1 + N/2
    arousal = [f"{9 - line * 0.5:.2f}" for line in range(1, 8)]
    (tmp_path / "v.txt").write_text("\n".join(valence) + "\n")
    (tmp_path / "a.txt").write_text("\n".join(arousal) + "\n")
    data = load_dataset(images, valence_file=tmp_path / "v.txt", arousal_file=tmp_path / "a.txt", size=8, progress=False)
    assert data.names == ["2.jpg", "5.jpg", "7.jpg"]
    assert list(data.valence) == pytest.approx([2.0, 3.5, 4.5])
    assert list(data.arousal) == pytest.approx([8.0, 6.5, 5.5])


def test_raw_form_with_short_label_file_reports_the_missing_lines(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for number in (1, 3):
        write_image(images / f"{number}.jpg")
    (tmp_path / "v.txt").write_text("5\n5\n")  # fewer lines than the largest id
    (tmp_path / "a.txt").write_text("5\n5\n")
    data = load_dataset(images, valence_file=tmp_path / "v.txt", arousal_file=tmp_path / "a.txt", size=8, progress=False)
    assert data.names == ["1.jpg"]
    assert any(s.item == "3.jpg" and "no label" in s.reason for s in data.report.skipped)


def test_custom_columns_and_extensions(tmp_path):
    images = tmp_path / "pics"
    images.mkdir()
    write_image(images / "a.png")
    write_image(images / "b.webp")
    write_image(images / "c.jpeg")
    (tmp_path / "ratings.csv").write_text("file,V,A\na.png,2,3\nb.webp,4,5\nc.jpeg,6,7\n")
    data = load_dataset(images, labels=tmp_path / "ratings.csv", id_column="file", valence_column="V",
                        arousal_column="A", size=8, progress=False)
    assert data.names == ["a.png", "b.webp", "c.jpeg"]
    assert list(data.arousal) == [3, 5, 7]
    only_png = load_dataset(images, labels=tmp_path / "ratings.csv", id_column="file", valence_column="V",
                            arousal_column="A", size=8, extensions=(".png",), use_cache=False, progress=False)
    assert only_png.names == ["a.png"]


def test_bad_labels_are_skipped_with_row_and_reason(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for number in range(1, 7):
        write_image(images / f"{number}.jpg")
    (tmp_path / "labels.csv").write_text(
        "image,valence,arousal\n1,5,5\n2,10,5\n3,abc,5\n4,5,0.5\n5,6,6\n5,7,7\n6,nan,3\n")
    data = load_dataset(images, labels=tmp_path / "labels.csv", size=8, progress=False)
    assert data.names == ["1.jpg"]
    reasons = {s.item: s.reason for s in data.report.skipped}
    assert "outside 1-9" in reasons["labels.csv row 3"]
    assert "not a number" in reasons["labels.csv row 4"]
    assert "outside 1-9" in reasons["labels.csv row 5"]
    assert "duplicate" in reasons["labels.csv row 7"]
    assert "outside" in reasons["labels.csv row 8"]  # NaN is not a rating
    assert "5.jpg" in reasons and "no label" in reasons["5.jpg"]  # both rows of the duplicate were dropped


def test_missing_column_names_the_file_and_the_header(tmp_path, csv_dataset):
    (tmp_path / "bad.csv").write_text("image,valence\n2,5\n")
    with pytest.raises(LabelError, match=r"bad\.csv.*missing column.*arousal"):
        load_dataset(csv_dataset / "images", labels=tmp_path / "bad.csv", size=8, progress=False)


def test_empty_folder_and_missing_files_fail_clearly(tmp_path, csv_dataset):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        load_dataset(tmp_path / "empty", labels=csv_dataset / "labels.csv", progress=False)
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "nowhere", labels=csv_dataset / "labels.csv", progress=False)
    with pytest.raises(DataError, match="label file not found"):
        load_dataset(csv_dataset / "images", labels=tmp_path / "missing.csv", progress=False)


def test_nothing_usable_is_an_error(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    write_image(images / "1.jpg")
    (tmp_path / "labels.csv").write_text("image,valence,arousal\n1,12,5\n")
    with pytest.raises(DataError, match="no usable images"):
        load_dataset(images, labels=tmp_path / "labels.csv", progress=False)


def test_corrupt_and_truncated_images_are_skipped(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    write_image(images / "1.jpg", size=(64, 64))
    (images / "2.jpg").write_bytes(b"this is not a jpeg")
    full = (images / "1.jpg").read_bytes()
    (images / "3.jpg").write_bytes(full[: len(full) // 2])
    (tmp_path / "labels.csv").write_text("image,valence,arousal\n1,5,5\n2,5,5\n3,5,5\n")
    data = load_dataset(images, labels=tmp_path / "labels.csv", size=16, progress=False)
    assert data.names == ["1.jpg"]
    reasons = {s.item: s.reason for s in data.report.skipped}
    assert "cannot decode" in reasons["2.jpg"] and "cannot decode" in reasons["3.jpg"]


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16", "LA", "1"])
def test_every_colour_mode_becomes_rgb(tmp_path, mode):
    path = tmp_path / ("x.tiff" if mode in ("CMYK", "I;16") else "x.png")
    if mode == "I;16":
        Image.fromarray(np.full((20, 30), 40000, np.uint16)).save(path)
        expected_grey = round(40000 / 65535 * 255)
    else:
        write_image(path, colour=(200, 100, 50), size=(30, 20), mode=mode)
        expected_grey = None
    array = decode_image(path, 16)
    assert array.shape == (16, 16, 3) and array.dtype == np.uint8
    if expected_grey is not None:  # 16-bit is scaled, not clipped to white
        assert abs(int(array[8, 8, 0]) - expected_grey) <= 1
    if mode == "RGBA":
        assert tuple(array[8, 8]) == pytest.approx((200, 100, 50), abs=2)


def test_exif_rotation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 20, 20))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=95)
    array = decode_image(path, 20)
    # displayed upright, the image is 20 wide and 40 tall with the white half on top
    assert array[2, 10].mean() > 200 and array[17, 10].mean() < 60


def test_huge_image_decodes_to_training_size(tmp_path):
    path = tmp_path / "huge.jpg"
    image = Image.new("RGB", (5000, 3000), (10, 200, 30))
    image.paste((250, 250, 250), (2000, 0, 3000, 3000))  # a white band in the middle
    image.save(path, quality=80)
    array = decode_image(path, 64)
    assert array.shape == (64, 64, 3)
    assert array[32, 32].min() > 230 and array[32, 2, 1] > 150 and array[32, 2, 0] < 60


def test_short_side_resize_and_centre_crop(tmp_path):
    image = Image.new("RGB", (90, 30), (255, 0, 0))
    image.paste((0, 0, 255), (30, 0, 60, 30))  # blue middle third
    image.save(tmp_path / "wide.png")
    array = decode_image(tmp_path / "wide.png", 30)
    assert array[15, 15, 2] > 200 and array[15, 15, 0] < 50  # the centre square is the blue third


def test_cache_is_used_then_rebuilt_when_sources_change(csv_dataset):
    images, labels = csv_dataset / "images", csv_dataset / "labels.csv"
    first = load_dataset(images, labels=labels, size=16, progress=False)
    cache = cache_path(images, 16)
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    again = load_dataset(images, labels=labels, size=16, progress=False)
    assert cache.stat().st_mtime_ns == stamp and again.names == first.names
    write_image(images / "1.jpg")  # a new image with a label row
    time.sleep(0.01)
    rebuilt = load_dataset(images, labels=labels, size=16, progress=False)
    assert "1.jpg" in rebuilt.names and cache.stat().st_mtime_ns != stamp
    labels.write_text(labels.read_text().replace("1,1.90,8.20", "1,2.50,8.20"))
    relabelled = load_dataset(images, labels=labels, size=16, progress=False)
    assert relabelled.valence[relabelled.names.index("1.jpg")] == pytest.approx(2.5)


def test_split_has_three_disjoint_parts_fixed_by_the_data_config(tiny_landscapes):
    train, _ = tiny_landscapes
    config = DataConfig(val_fraction=0.25, test_fraction=0.125, split_seed=5)
    parts = train.split(config)
    assert [len(part) for part in parts] == [23, 9, 4]  # 36 images: 4 test, 9 validation, the rest train
    assert sorted(parts.train.names + parts.val.names + parts.test.names) == sorted(train.names)
    assert train.split(config).test.names == parts.test.names  # same config, same split
    assert train.split(replace(config, split_seed=6)).test.names != parts.test.names
    assert len(train.split(DataConfig()).test) == 4  # the default config holds out a test part
    with pytest.raises(DataError, match="cannot be split"):
        train.subset(range(3)).split(DataConfig(val_fraction=0.5, test_fraction=0.5))


def test_a_saved_split_reloads_the_same_images_by_name(tiny_landscapes, tmp_path):
    from helpers.training.runs import load_split, save_split

    data, _ = tiny_landscapes
    config = DataConfig(split_seed=3)
    train, val, test = data.split(config)
    save_split(tmp_path, train, val, test, config)
    saved = load_split(tmp_path)
    assert saved["data"]["split_seed"] == 3 and saved["test"] == test.names
    reloaded = data.named(saved["test"])
    assert np.array_equal(reloaded.images, test.images) and np.array_equal(reloaded.valence, test.valence)
    assert load_split(tmp_path / "elsewhere") is None
    with pytest.raises(DataError, match="not in"):
        data.named(["no-such-image.jpg"])


def test_notebook_session_takes_the_command_lines_column_and_extension_options(tmp_path):
    from helpers.notebook import notebook_session

    images = tmp_path / "pictures"
    images.mkdir()
    for i in range(1, 4):
        write_image(images / f"{i}.png", colour=(40 * i, 90, 120))
    write_image(images / "4.jpg")  # not a .png: left out
    (tmp_path / "ratings.csv").write_text("file,pleasure,energy\n1,2.0,8.0\n2,5.0,5.0\n3,8.0,2.0\n4,5.0,5.0\n")
    session = notebook_session(images=images, labels=tmp_path / "ratings.csv", preset_name="ci", weights=tmp_path / "w",
                               id_column="file", valence_column="pleasure", arousal_column="energy", extensions=".png")
    data = session.load(progress=False)
    assert data.names == ["1.png", "2.png", "3.png"]
    assert data.valence.tolist() == [2.0, 5.0, 8.0] and data.arousal.tolist() == [8.0, 5.0, 2.0]


def test_data_report_command_json(csv_dataset, capsys):
    code = main(["data-report", "--images", str(csv_dataset / "images"), "--labels", str(csv_dataset / "labels.csv"), "--json"])
    output = json.loads(capsys.readouterr().out)
    assert code == 0 and output["usable"] == 4
    assert output["items"][0] == {"image": "2.jpg", "valence": pytest.approx(2.8), "arousal": pytest.approx(7.4)}
    assert isinstance(output["skipped"], list)


def test_data_report_command_fails_without_a_required_column(tmp_path, csv_dataset, capsys):
    (tmp_path / "bad.csv").write_text("image,valence\n2,5\n")
    code = main(["data-report", "--images", str(csv_dataset / "images"), "--labels", str(tmp_path / "bad.csv"), "--json"])
    assert code != 0
    assert json.loads(capsys.readouterr().out)["usable"] == 0


def test_a_cached_set_loads_without_decoding_a_single_image(tmp_path, monkeypatch):
    from helpers.data import dataset
    from helpers.data.synth import write_dataset

    write_dataset(tmp_path, n=865, size=64, seed=1, progress=False)
    first = load_dataset(tmp_path / "images", labels=tmp_path / "labels.csv", size=64, progress=False)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(dataset, "decode_image", no_decoding)
    again = load_dataset(tmp_path / "images", labels=tmp_path / "labels.csv", size=64, progress=False)
    assert len(again) == 865 and np.array_equal(again.images, first.images)  # benchmarks/data_loading.py times it
