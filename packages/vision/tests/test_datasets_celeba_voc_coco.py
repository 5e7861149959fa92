"""CelebA, VOC and COCO on generated files in the official formats (text, XML, JSON)."""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

import flambeau
from flambeau.vision.datasets import (
    CelebA,
    CocoCaptions,
    CocoDetection,
    VOCDetection,
    VOCSegmentation,
)


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


ATTR_NAMES = ["5_o_Clock_Shadow", "Arched_Eyebrows", "Young"]


def celeba_files(folder, images=True):
    """The five annotation files (CelebA's spacing: padded columns) and the images."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{i:06d}.jpg" for i in range(1, 6)]
    attr = np.array([[1, -1, 1], [-1, -1, 1], [1, 1, -1], [-1, 1, 1], [1, 1, 1]])
    identity = [2880, 2937, 8692, 5805, 9295]
    bbox = np.arange(20).reshape(5, 4) + 10
    landmarks = np.arange(50).reshape(5, 10)
    partition = [0, 0, 1, 2, 0]
    (folder / "list_attr_celeba.txt").write_text(
        "5\n" + " ".join(ATTR_NAMES) + " \n"
        + "".join(f"{n} " + " ".join(f"{v:2d}" for v in row) + "\n"
                  for n, row in zip(names, attr)))
    (folder / "identity_CelebA.txt").write_text(
        "".join(f"{n} {i}\n" for n, i in zip(names, identity)))
    (folder / "list_bbox_celeba.txt").write_text(
        "5\nimage_id x_1 y_1 width height\n"
        + "".join(f"{n}    " + "    ".join(map(str, row)) + "\n" for n, row in zip(names, bbox)))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        "5\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y "
        "rightmouth_x rightmouth_y\n"
        + "".join(f"{n} " + " ".join(map(str, row)) + "\n" for n, row in zip(names, landmarks)))
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{n} {p}\n" for n, p in zip(names, partition)))
    if images:
        (folder / "img_align_celeba").mkdir()
        for i, n in enumerate(names):
            Image.new("RGB", (6, 7), (i * 50, 0, 0)).save(folder / "img_align_celeba" / n)
    return dict(attr=attr, identity=identity, bbox=bbox, landmarks=landmarks)


def local_celeba(folder):
    class Local(CelebA):
        file_list = [(fid, md5(folder / name) if name.endswith(".txt") else m, name)
                     for fid, m, name in CelebA.file_list]

    return Local


def test_celeba_targets_and_splits(tmp_path):
    values = celeba_files(tmp_path / "celeba")
    local = local_celeba(tmp_path / "celeba")
    train = local(tmp_path, target_type=["attr", "identity", "bbox", "landmarks"])
    assert len(train) == 3 and train.filename == ["000001.jpg", "000002.jpg", "000005.jpg"]
    assert train.attr_names == ATTR_NAMES
    image, (attr, identity, bbox, landmarks) = train[2]
    assert image.size == (6, 7)
    assert attr.dtype == flambeau.int64
    np.testing.assert_array_equal(attr.cpu().numpy(), (values["attr"][4] + 1) // 2)
    assert identity.dim() == 0 and identity.item() == 9295
    np.testing.assert_array_equal(bbox.cpu().numpy(), values["bbox"][4])
    np.testing.assert_array_equal(landmarks.cpu().numpy(), values["landmarks"][4])
    assert len(local(tmp_path, split="VALID")) == 1 and len(local(tmp_path, split="test")) == 1
    everything = local(tmp_path, split="all", target_type="identity",
                       target_transform=lambda t: int(t) + 1)
    assert len(everything) == 5 and everything[3][1] == 5806
    assert local(tmp_path, target_type=[])[0][1] is None


def test_celeba_errors(tmp_path):
    with pytest.raises(ValueError, match=r"CelebA: unknown value 'age' for argument "
                                         r"target_type; valid values are 'attr'"):
        CelebA(tmp_path, target_type=["attr", "age"])
    with pytest.raises(ValueError, match=r"CelebA: unknown value 'val' for argument split"):
        CelebA(tmp_path, split="val")
    with pytest.raises(RuntimeError, match=r"CelebA: target_transform is specified but "
                                           r"target_type is empty"):
        CelebA(tmp_path, target_type=[], target_transform=str)
    with pytest.raises(RuntimeError, match=r"CelebA: data set not found or corrupt"):
        CelebA(tmp_path)
    celeba_files(tmp_path / "celeba")
    local = local_celeba(tmp_path / "celeba")
    path = tmp_path / "celeba" / "list_bbox_celeba.txt"
    path.write_text(path.read_text().replace(" 14", " x4"))
    local.file_list = [(f, md5(path) if n == path.name else m, n) for f, m, n in local.file_list]
    with pytest.raises(RuntimeError, match=r"list_bbox_celeba.txt is malformed"):
        local(tmp_path)


def test_celeba_download(tmp_path, http_root):
    served, url = http_root
    celeba_files(tmp_path / "gen")
    for path in (tmp_path / "gen").glob("*.txt"):
        (served / path.name).write_bytes(path.read_bytes())
    with zipfile.ZipFile(served / "img_align_celeba.zip", "w") as zf:
        for path in (tmp_path / "gen" / "img_align_celeba").iterdir():
            zf.write(path, f"img_align_celeba/{path.name}")

    class Local(CelebA):
        url_template = url + "{filename}"
        file_list = [(fid, md5(served / name), name) for fid, _, name in CelebA.file_list]

    ds = Local(tmp_path / "root", split="all", download=True)
    assert len(ds) == 5 and ds[1][0].getpixel((0, 0))[0] in range(45, 56)
    Local.file_list = [(f, "0" * 32 if n.endswith(".zip") else m, n) for f, m, n in
                       Local.file_list]
    with pytest.raises(RuntimeError, match=r"checksum mismatch for img_align_celeba.zip"):
        Local(tmp_path / "other", download=True)


VOC_XML = """<annotation>
  <folder>VOC2012</folder>
  <filename>{name}.jpg</filename>
  <size><width>6</width><height>4</height><depth>3</depth></size>
  <segmented>0</segmented>
  {objects}
</annotation>"""
VOC_OBJECT = ("<object><name>{cls}</name><difficult>0</difficult><bndbox><xmin>1</xmin>"
              "<ymin>2</ymin><xmax>{x}</xmax><ymax>4</ymax></bndbox></object>")


def write_voc(root, base="VOCdevkit/VOC2012", names=("2008_000001", "2008_000002"),
              image_set="train"):
    voc = root / base
    for sub in ("ImageSets/Segmentation", "ImageSets/Main", "JPEGImages", "SegmentationClass",
                "Annotations"):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        Image.new("RGB", (6, 4), (0, 80 * i, 0)).save(voc / "JPEGImages" / f"{name}.jpg")
        mask = Image.fromarray(np.full((4, 6), i + 1, np.uint8), "P")
        mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9))
        mask.save(voc / "SegmentationClass" / f"{name}.png")
        objects = "".join(VOC_OBJECT.format(cls=c, x=5 + k) for k, c in
                          enumerate(["dog", "person"][: i + 1]))
        (voc / "Annotations" / f"{name}.xml").write_text(VOC_XML.format(name=name,
                                                                       objects=objects))
    for kind in ("Segmentation", "Main"):
        (voc / "ImageSets" / kind / f"{image_set}.txt").write_text("\n".join(names) + "\n")
    return voc


def test_voc_segmentation(tmp_path):
    write_voc(tmp_path)
    ds = VOCSegmentation(tmp_path, image_set="train")
    assert len(ds) == 2 and ds.masks[1].endswith("SegmentationClass/2008_000002.png")
    image, mask = ds[1]
    assert image.mode == "RGB" and mask.mode == "P"
    np.testing.assert_array_equal(np.asarray(mask), np.full((4, 6), 2))
    both = VOCSegmentation(tmp_path, transforms=lambda im, m: (im.size, np.asarray(m).max()))
    assert both[0] == ((6, 4), 1)


def test_voc_detection_targets(tmp_path):
    write_voc(tmp_path)
    ds = VOCDetection(tmp_path, year="2012", image_set="train")
    _, one = ds[0]
    ann = one["annotation"]
    assert ann["filename"] == "2008_000001.jpg" and ann["size"] == {"width": "6", "height": "4",
                                                                    "depth": "3"}
    assert ann["object"] == [{"name": "dog", "difficult": "0",
                              "bndbox": {"xmin": "1", "ymin": "2", "xmax": "5", "ymax": "4"}}]
    _, two = ds[1]
    assert [o["name"] for o in two["annotation"]["object"]] == ["dog", "person"]
    assert two["annotation"]["object"][1]["bndbox"]["xmax"] == "6"


def test_voc_errors(tmp_path):
    with pytest.raises(ValueError, match=r"VOCDetection: unknown value 'test' for argument "
                                         r"image_set"):
        VOCDetection(tmp_path, year="2012", image_set="test")
    with pytest.raises(ValueError, match=r"unknown value '2006' for argument year"):
        VOCSegmentation(tmp_path, year="2006")
    with pytest.raises(RuntimeError, match=r"VOCSegmentation: data set not found or corrupt: "
                                           r"no folder .*VOC2012"):
        VOCSegmentation(tmp_path)
    voc = write_voc(tmp_path)
    (voc / "Annotations" / "2008_000001.xml").write_text("<annotation><object>")
    with pytest.raises(RuntimeError, match=r"VOCDetection: cannot parse .*2008_000001.xml"):
        VOCDetection(tmp_path)[0]


def test_voc_2007_download_merges_trainval_and_test(tmp_path, http_root):
    served, url = http_root
    for image_set, names, archive in (("trainval", ("000005",), "VOCtrainval_06-Nov-2007.tar"),
                                      ("test", ("000001",), "VOCtest_06-Nov-2007.tar")):
        gen = tmp_path / f"gen-{image_set}"
        write_voc(gen, "VOCdevkit/VOC2007", names, image_set)
        with tarfile.open(served / archive, "w") as tar:
            tar.add(gen / "VOCdevkit", arcname="VOCdevkit")
    table = {key: {**entry, "url": url + entry["filename"],
                   "md5": md5(served / entry["filename"])}
             for key, entry in VOCDetection.dataset_year_dict.items()
             if key in ("2007", "2007-test")}

    class Local(VOCDetection):
        dataset_year_dict = table

    root = tmp_path / "root"
    trainval = Local(root, year="2007", image_set="trainval", download=True)
    test = Local(root, year="2007", image_set="test", download=True)
    assert len(trainval) == 1 and len(test) == 1
    assert (root / "VOCdevkit/VOC2007/JPEGImages/000005.jpg").is_file()  # still there
    assert test[0][1]["annotation"]["filename"] == "000001.jpg"
    Local.dataset_year_dict = {**table, "2007": {**table["2007"], "md5": "0" * 32}}
    with pytest.raises(RuntimeError, match=r"checksum mismatch for VOCtrainval_06-Nov-2007.tar"):
        Local(tmp_path / "other", year="2007", download=True)


def write_coco(tmp_path):
    (tmp_path / "images").mkdir()
    for i, name in ((3, "b.jpg"), (1, "a.jpg"), (2, "c.jpg")):
        Image.new("RGB", (4, 3), (i * 60, 0, 0)).save(tmp_path / "images" / name)
    instances = {
        "images": [{"id": 3, "file_name": "b.jpg", "width": 4, "height": 3},
                   {"id": 1, "file_name": "a.jpg", "width": 4, "height": 3},
                   {"id": 2, "file_name": "c.jpg", "width": 4, "height": 3}],
        "annotations": [
            {"id": 10, "image_id": 3, "category_id": 18, "bbox": [0, 0, 2, 2], "area": 4.0,
             "iscrowd": 0, "segmentation": [[0, 0, 2, 0, 2, 2]]},
            {"id": 11, "image_id": 1, "category_id": 1, "bbox": [1, 1, 1, 1], "area": 1.0,
             "iscrowd": 0, "segmentation": [[1, 1, 2, 1, 2, 2]]},
            {"id": 12, "image_id": 3, "category_id": 1, "bbox": [1, 0, 3, 3], "area": 9.0,
             "iscrowd": 1, "segmentation": {"counts": [0, 12], "size": [3, 4]}},
        ],
        "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}],
    }
    (tmp_path / "instances.json").write_text(json.dumps(instances))
    captions = {"images": instances["images"], "annotations": [
        {"id": 1, "image_id": 1, "caption": "A red square."},
        {"id": 2, "image_id": 3, "caption": "Two."}, {"id": 3, "image_id": 1, "caption": "B."}]}
    (tmp_path / "captions.json").write_text(json.dumps(captions))
    return instances


def test_coco_detection(tmp_path):
    instances = write_coco(tmp_path)
    ds = CocoDetection(tmp_path / "images", tmp_path / "instances.json")
    assert len(ds) == 3 and ds.ids == [1, 2, 3]
    image, target = ds[2]  # image id 3: two annotations, in file order
    assert image.mode == "RGB" and image.size == (4, 3) and image.getpixel((0, 0))[0] > 150
    assert target == [instances["annotations"][0], instances["annotations"][2]]
    assert ds[1][1] == []
    assert ds.coco.cats[18]["name"] == "dog" and ds.coco.loadImgs(1)[0]["file_name"] == "a.jpg"
    assert ds.coco.getAnnIds([1, 3]) == [11, 10, 12]
    with pytest.raises(ValueError, match=r"Index must be of type integer, got <class 'slice'>"):
        ds[0:2]
    pair = CocoDetection(tmp_path / "images", str(tmp_path / "instances.json"),
                         transforms=lambda im, t: (im.size, len(t)))
    assert pair[0] == ((4, 3), 1)


def test_coco_captions_and_errors(tmp_path):
    write_coco(tmp_path)
    ds = CocoCaptions(tmp_path / "images", tmp_path / "captions.json")
    assert ds[0][1] == ["A red square.", "B."] and ds[2][1] == ["Two."]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RuntimeError, match=r"cannot read COCO annotations .*bad.json"):
        CocoDetection(tmp_path, tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(RuntimeError, match=r"list.json is not a COCO annotation file"):
        CocoDetection(tmp_path, tmp_path / "list.json")
    (tmp_path / "images" / "a.jpg").unlink()
    with pytest.raises(OSError, match=r"cannot read image file .*a.jpg"):
        ds[0]
