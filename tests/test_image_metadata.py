"""Uploaded images are stored without their metadata (EXIF, GPS, text chunks, comments), pixels unchanged."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from sources.models import Source

from .factories import admin_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]

ADD_URL = "/admin/sources/source/add/"
SECRET = "secret-address-5-Haebangsan-street"
GPS = {1: "N", 2: (35.0, 1.0, 2.0), 3: "E", 4: (126.0, 58.0, 30.0)}
IMAGE_DESCRIPTION, GPS_IFD, ORIENTATION, ARTIST = 0x010E, 0x8825, 0x0112, 0x013B


def picture(size=(64, 48), mode="RGB") -> Image.Image:
    """A smooth gradient (lossy formats keep it close) with a distinct pixel in each place."""
    image = Image.new(mode, size)
    width, height = size
    pixels = [(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)]
    if mode == "RGBA":
        pixels = [(*pixel, 255) for pixel in pixels]
    image.putdata(pixels)
    return image


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[IMAGE_DESCRIPTION] = SECRET
    exif[ARTIST] = "Photographer Name"
    exif[GPS_IFD] = GPS
    return exif


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def upload(client, name: str, content: bytes, content_type: str, title: str = "A photo") -> Source:
    page = client.get(ADD_URL)
    assert page.status_code == 200
    data = admin_form_data(page, title=title, document=SimpleUploadedFile(name, content, content_type=content_type))
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Source.objects.get(title=title)


def stored_bytes(source: Source) -> bytes:
    with source.document.open("rb") as stored:
        return stored.read()


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    image = open_image(data)
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(GPS_IFD) == {}
    for key in ("exif", "xmp", "comment", "Location", "Author"):
        assert key not in image.info, key
    assert getattr(image, "text", {}) == {}
    assert SECRET.encode() not in data
    assert b"Photographer" not in data
    assert b"Exif\x00\x00" not in data


def assert_same_pixels(original: bytes, stored: bytes, *, tolerance: float = 0.0) -> None:
    before, after = open_image(original), open_image(stored)
    assert after.size == before.size
    assert after.mode == before.mode
    if tolerance == 0:
        assert after.tobytes() == before.tobytes()
    else:
        difference = ImageStat.Stat(ImageChops.difference(before.convert("RGB"), after.convert("RGB")))
        assert max(difference.mean) <= tolerance, difference.mean


def assert_fingerprint_of_stored_file(source: Source, data: bytes, content_type: str) -> None:
    assert source.sha256 == hashlib.sha256(data).hexdigest()
    assert source.file_size == len(data)
    assert source.content_type == content_type


# --- JPEG ----------------------------------------------------------------------------------------


def test_a_jpeg_loses_its_exif_gps_and_xmp(admin_client):
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{SECRET}</rdf:Description></x:xmpmeta>'
    original = encode(picture(), "JPEG", quality=95, exif=exif_with_gps(), xmp=xmp.encode())
    assert open_image(original).getexif().get_ifd(GPS_IFD)  # the upload does carry a position
    assert SECRET.encode() in original

    source = upload(admin_client, "photo.jpg", original, "image/jpeg")
    data = stored_bytes(source)
    assert data != original
    assert_no_metadata(data)
    assert open_image(data).format == "JPEG"
    assert_same_pixels(original, data, tolerance=2.0)
    assert_fingerprint_of_stored_file(source, data, "image/jpeg")


def test_a_jpeg_loses_its_comment(admin_client):
    """README: images are re-encoded without their metadata (EXIF, GPS position, comments)."""
    original = encode(picture(), "JPEG", quality=95, comment=SECRET.encode())
    assert open_image(original).info["comment"] == SECRET.encode()
    source = upload(admin_client, "photo.jpg", original, "image/jpeg")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert_fingerprint_of_stored_file(source, data, "image/jpeg")


def test_a_jpeg_with_an_orientation_tag_is_stored_upright(admin_client):
    # 40 wide, 20 high; left half red, right half blue. Orientation 6: turn 90° clockwise to view.
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    original = encode(image, "JPEG", quality=95, exif=exif)

    source = upload(admin_client, "sideways.jpg", original, "image/jpeg")
    data = stored_bytes(source)
    stored = open_image(data)
    assert stored.size == (20, 40)  # as a viewer shows it
    assert stored.getexif().get(ORIENTATION) in (None, 1)  # not turned a second time by viewers
    red, blue = stored.getpixel((10, 5)), stored.getpixel((10, 35))
    assert red[0] > 200 and red[2] < 60
    assert blue[2] > 200 and blue[0] < 60
    assert_fingerprint_of_stored_file(source, data, "image/jpeg")


def test_the_same_photo_with_other_metadata_is_the_same_source(admin_client):
    first = encode(picture(), "JPEG", quality=95, exif=exif_with_gps())
    other = Image.Exif()
    other[IMAGE_DESCRIPTION] = "another description"
    second = encode(picture(), "JPEG", quality=95, exif=other)
    assert first != second
    source = upload(admin_client, "a.jpg", first, "image/jpeg", title="First copy")

    page = admin_client.get(ADD_URL)
    data = admin_form_data(
        page, title="Second copy", document=SimpleUploadedFile("b.jpg", second, content_type="image/jpeg")
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "already source" in " ".join(response.context["adminform"].form.errors["document"])
    assert list(Source.objects.all()) == [source]


# --- PNG -----------------------------------------------------------------------------------------


def test_a_png_loses_its_text_chunks_and_exif(admin_client):
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", SECRET)
    info.add_text("Author", "Photographer Name", zip=True)
    info.add_itxt("Comment", SECRET, lang="en")
    original = encode(picture(mode="RGBA"), "PNG", pnginfo=info, exif=exif_with_gps())
    assert open_image(original).text["Location"] == SECRET

    source = upload(admin_client, "screenshot.png", original, "image/png")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert b"tEXt" not in data and b"zTXt" not in data and b"iTXt" not in data and b"eXIf" not in data
    assert_same_pixels(original, data)  # lossless: exactly the same pixels
    assert_fingerprint_of_stored_file(source, data, "image/png")


def test_a_palette_png_keeps_its_pixels(admin_client):
    image = picture().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", SECRET)
    original = encode(image, "PNG", pnginfo=info)
    source = upload(admin_client, "palette.png", original, "image/png")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert open_image(data).convert("RGB").tobytes() == open_image(original).convert("RGB").tobytes()


# --- WebP ----------------------------------------------------------------------------------------


def test_a_webp_loses_its_exif_and_xmp(admin_client):
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{SECRET}</rdf:Description></x:xmpmeta>'
    original = encode(picture(), "WEBP", quality=95, exif=exif_with_gps(), xmp=xmp.encode())
    assert "exif" in open_image(original).info

    source = upload(admin_client, "photo.webp", original, "image/webp")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert b"EXIF" not in data and b"XMP " not in data
    assert_same_pixels(original, data, tolerance=3.0)
    assert_fingerprint_of_stored_file(source, data, "image/webp")


def test_a_lossless_webp_keeps_exactly_its_pixels(admin_client):
    """A lossless screenshot of a document must not come back blurred by a lossy re-encoding."""
    original = encode(picture(), "WEBP", lossless=True, exif=exif_with_gps())
    source = upload(admin_client, "screenshot.webp", original, "image/webp")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert_same_pixels(original, data)


# --- GIF -----------------------------------------------------------------------------------------


def test_a_gif_loses_its_comment(admin_client):
    original = encode(picture().convert("P"), "GIF", comment=SECRET.encode())
    assert open_image(original).info.get("comment") == SECRET.encode()
    source = upload(admin_client, "image.gif", original, "image/gif")
    data = stored_bytes(source)
    assert_no_metadata(data)
    assert open_image(data).convert("RGB").tobytes() == open_image(original).convert("RGB").tobytes()
    assert_fingerprint_of_stored_file(source, data, "image/gif")


def test_an_animated_gif_keeps_its_frames(admin_client):
    frames = [Image.new("RGB", (16, 16), color).convert("P") for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    original = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert open_image(original).n_frames == 3
    source = upload(admin_client, "animation.gif", original, "image/gif")
    stored = open_image(stored_bytes(source))
    assert getattr(stored, "n_frames", 1) == 3


# --- Not images ------------------------------------------------------------------------------------


def test_a_pdf_is_stored_byte_for_byte(admin_client):
    pdf = b"%PDF-1.4\n% Author: " + SECRET.encode() + b"\n%%EOF\n"
    source = upload(admin_client, "report.pdf", pdf, "application/pdf")
    data = stored_bytes(source)
    assert data == pdf  # documents are evidence: only images are re-encoded
    assert_fingerprint_of_stored_file(source, data, "application/pdf")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0" + b"\x00" * 100,  # a JPEG signature and nothing behind it
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # a PNG signature and garbage
    ],
    ids=["jpeg signature only", "png signature only"],
)
def test_an_undecodable_image_is_refused_with_a_form_error(admin_client, content):
    page = admin_client.get(ADD_URL)
    upload_file = SimpleUploadedFile("x.img", content, content_type="application/octet-stream")
    response = admin_client.post(ADD_URL, admin_form_data(page, title="Broken", document=upload_file))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["document"]
    assert not Source.objects.exists()


def test_a_truncated_jpeg_is_refused_or_stored_without_metadata(admin_client):
    original = encode(picture(), "JPEG", quality=95, exif=exif_with_gps())
    truncated = original[: len(original) * 2 // 3]
    page = admin_client.get(ADD_URL)
    upload_file = SimpleUploadedFile("cut.jpg", truncated, content_type="image/jpeg")
    response = admin_client.post(ADD_URL, admin_form_data(page, title="Cut", document=upload_file))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert_no_metadata(stored_bytes(Source.objects.get(title="Cut")))
    else:
        assert response.context["adminform"].form.errors["document"]


def test_a_decompression_bomb_is_refused_with_a_form_error(admin_client):
    # 225 million pixels in 27 KB: decoding it would take gigabytes.
    bomb = encode(Image.new("1", (15000, 15000)), "PNG")
    page = admin_client.get(ADD_URL)
    upload_file = SimpleUploadedFile("bomb.png", bomb, content_type="image/png")
    response = admin_client.post(ADD_URL, admin_form_data(page, title="Bomb", document=upload_file))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["document"]
    assert not Source.objects.exists()
