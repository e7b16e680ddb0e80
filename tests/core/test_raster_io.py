"""Core raster I/O: grids, block iteration, alignment, atomic styled writes."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.io import BlockWriter, Grid, RasterStack, RasterStyle, open_raster, read_window
from geoml_qgis.core.io.align import align_rasters
from geoml_qgis.core.io.blocks import process_blocks
from geoml_qgis.core.io.crs import require_projected, to_wkt


def test_grid_cell_centres_north_up():
    g = Grid.from_bounds(100, 200, 110, 204, 2.0)
    assert (g.width, g.height) == (5, 2)
    x, y = g.cell_centres()
    assert x[0, 0] == 101 and x[0, -1] == 109
    assert y[0, 0] == 203 and y[1, 0] == 201  # top row is the northernmost
    r, c, inside = g.rowcol(np.array([101, 109.9, 111]), np.array([203.5, 200.1, 203]))
    assert r.tolist()[:2] == [0, 1] and c.tolist()[:2] == [0, 4] and inside.tolist() == [True, True, False]


def test_grid_refuses_rotated_or_south_up():
    with pytest.raises(GeoMLError, match="north-up"):
        Grid(3, 3, (0, 1, 0, 0, 0, 1))


def test_windows_cover_grid_exactly_once():
    g = Grid(1030, 700, (0, 1, 0, 0, 0, -1))
    seen = np.zeros(g.shape, int)
    for w in g.windows(256):
        seen[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] += 1
    assert (seen == 1).all() and g.n_windows(256) == 5 * 3


def test_block_write_larger_than_one_block_round_trips(tmp_path):
    g = Grid.from_bounds(500000, 6000000, 500000 + 1300, 6000000 + 900, 1.0, to_wkt("EPSG:32633"))
    out = tmp_path / "northing.tif"
    with BlockWriter(out, g, style=RasterStyle("continuous")) as w:
        process_blocks(g, lambda win: g.cell_centres(win)[1], w, block_size=256)
    ds = open_raster(out)
    arr = ds.GetRasterBand(1).ReadAsArray()
    assert arr.shape == (900, 1300)
    # field equal to northing: top row holds the largest values, at cell centres
    assert arr[0, 0] == pytest.approx(6000900 - 0.5) and arr[-1, 0] == pytest.approx(6000000 + 0.5)
    assert ds.GetRasterBand(1).GetBlockSize() == [256, 256]
    assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
    qml = (tmp_path / "northing.qml").read_text()
    assert 'type="singlebandpseudocolor"' in qml and 'minimumValue="6000000.5"' in qml


def test_easting_field_and_masked_values_become_nodata(tmp_path):
    g = Grid.from_bounds(0, 0, 10, 5, 1.0)
    out = tmp_path / "e.tif"
    with BlockWriter(out, g) as w:
        x, _ = g.cell_centres()
        w.write(next(g.windows()), np.ma.masked_where(x > 8, x))
    ds = open_raster(out)
    block = read_window(ds, next(g.windows()))
    assert block[0, 0, 0] == 0.5 and block[0, 0, 7] == 7.5
    assert block.mask[0, :, 8:].all() and not block.mask[0, :, :8].any()


def test_failed_write_leaves_nothing(tmp_path):
    g = Grid.from_bounds(0, 0, 600, 600, 1.0)
    out = tmp_path / "out.tif"

    def boom(win):
        if win.row_off > 0:
            raise RuntimeError("disk full")
        return np.zeros((win.height, win.width))

    with pytest.raises(RuntimeError):
        with BlockWriter(out, g, style=RasterStyle()) as w:
            process_blocks(g, boom, w, block_size=256)
    assert list(tmp_path.iterdir()) == []


def test_cancel_between_blocks_leaves_nothing(tmp_path):
    g = Grid.from_bounds(0, 0, 600, 600, 1.0)
    out = tmp_path / "out.tif"
    calls = []

    def progress(f):
        calls.append(f)
        return len(calls) < 3  # cancel after the second block

    with pytest.raises(Cancelled):
        with BlockWriter(out, g) as w:
            process_blocks(g, lambda win: np.ones((win.height, win.width)), w, progress, block_size=256)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_rewrite(tmp_path):
    g = Grid.from_bounds(0, 0, 4, 4, 1.0)
    out = tmp_path / "keep.tif"
    with BlockWriter(out, g) as w:
        w.write(next(g.windows()), np.full((4, 4), 7.0))
    with pytest.raises(ValueError):
        with BlockWriter(out, g) as w:
            w.write(next(g.windows()), np.zeros((3, 3)))  # wrong shape
    ds = open_raster(out)
    assert (ds.GetRasterBand(1).ReadAsArray() == 7).all()


def test_categorical_style_writes_names_and_palette(tmp_path):
    g = Grid.from_bounds(0, 0, 3, 1, 1.0)
    out = tmp_path / "classes.tif"
    style = RasterStyle("categorical", classes={1: "kaolinite", 2: "alunite"})
    with BlockWriter(out, g, dtype="uint8", style=style) as w:
        w.write(next(g.windows()), np.array([[0, 1, 2]]))
    ds = open_raster(out)
    info = gdal.Info(ds, format="json")["bands"][0]
    assert info["categories"][1:3] == ["kaolinite", "alunite"]
    assert info["colorTable"]["entries"][1][:3] == [78, 121, 167]
    assert 'label="alunite"' in (tmp_path / "classes.qml").read_text()


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_tiled_categorical_output_keeps_values_palette_and_names(tmp_path, dtype):
    # 600 x 300 cells: 6 tiles of 256 x 256 written one window at a time (GDAL 3.10 / libtiff 4.7
    # refused a colour table set after the tiles were written)
    g = Grid.from_bounds(0, 0, 600, 300, 1.0)
    out = tmp_path / "classes.tif"
    style = RasterStyle("categorical", classes={1: "kaolinite", 2: "alunite", 3: "muscovite"})
    values = (np.arange(g.width)[None, :] // 200 + 1) * np.ones((g.height, 1), dtype=int)
    with BlockWriter(out, g, dtype=dtype, style=style) as w:
        for win in g.windows():
            w.write(win, values[win.row_off:win.row_off + win.height, win.col_off:win.col_off + win.width])
    ds = open_raster(out)
    band = ds.GetRasterBand(1)
    assert band.GetBlockSize() == [256, 256]
    assert (band.ReadAsArray() == values).all()
    info = gdal.Info(ds, format="json")["bands"][0]
    assert info["categories"][1:4] == ["kaolinite", "alunite", "muscovite"]
    assert info["colorInterpretation"] == "Palette"
    entries = info["colorTable"]["entries"]
    assert entries[1][:3] == [78, 121, 167] and entries[3][:3] == [225, 87, 89]
    assert not list(tmp_path.glob("*.tmp*"))


def test_stack_aligns_different_crs_and_resolution(write_raster, tmp_path):
    # reference: 10 m grid in UTM 33N holding easting; other: 5 m grid in UTM 33N, and a WGS84 copy
    ref_t = (500000.0, 10.0, 0.0, 6000200.0, 0.0, -10.0)
    g = Grid(20, 20, ref_t)
    x, y = g.cell_centres()
    ref = write_raster(x, ref_t, name="ref.tif")
    fine_t = (500000.0, 5.0, 0.0, 6000200.0, 0.0, -5.0)
    gf = Grid(40, 40, fine_t)
    xf, yf = gf.cell_centres()
    fine = write_raster(yf, fine_t, name="fine.tif")
    with RasterStack([ref, fine], reference=ref, resampling="average") as stack:
        assert stack.count == 2 and stack.warped == [False, True]
        block = stack.read(next(stack.windows()))
    assert np.allclose(block[0], x) and np.allclose(block[1], y, atol=1e-6)

    # a geographic raster holding northing, warped to UTM through a VRT
    from osgeo import osr

    src = osr.SpatialReference(); src.ImportFromEPSG(32633); src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dst = osr.SpatialReference(); dst.ImportFromEPSG(4326); dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(src, dst)
    lon0, lat1, _ = tr.TransformPoint(499900.0, 6000300.0)
    lon1, lat0, _ = tr.TransformPoint(500300.0, 5999900.0)
    n = 200
    geo_t = (lon0, (lon1 - lon0) / n, 0.0, lat1, 0.0, -(lat1 - lat0) / n)
    gg = Grid(n, n, geo_t)
    lon, lat = gg.cell_centres()
    back = osr.CoordinateTransformation(dst, src)
    pts = np.array(back.TransformPoints(np.column_stack([lon.ravel(), lat.ravel()]).tolist()))
    geo = write_raster(pts[:, 1].reshape(n, n), geo_t, epsg=4326, name="geo.tif")
    with RasterStack([geo], reference=ref, resampling="bilinear") as stack:
        assert stack.warped == [True]
        warped = stack.read(next(stack.windows()))[0]
    assert np.abs(warped - y).max() < 2.0  # within a fraction of the 10 m cell


def test_stack_masks_nodata_and_samples_points(write_raster):
    arr = np.arange(12, dtype=float).reshape(3, 4)
    arr[1, 1] = -1
    path = write_raster(arr, (0, 1, 0, 3, 0, -1), nodata=-1)
    with RasterStack([path]) as stack:
        vals = stack.sample(np.array([0.5, 1.5, 3.5, 9.0]), np.array([2.5, 1.5, 0.5, 1.0]))
    assert vals[0, 0] == 0 and vals[2, 0] == 11
    assert vals.mask[1, 0] and vals.mask[3, 0]  # nodata cell, outside the grid


def test_stack_reads_the_same_blocks_from_several_threads(write_raster):
    """Block workers read a stack at once (each through its own GDAL handle; a warped input one
    thread at a time): every block equals the one read alone, nodata masks included."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    arr = rng.normal(size=(3, 90, 70)).astype(np.float32)
    arr[1, 5:9, 3:30] = -1
    plain = write_raster(arr, nodata=-1, name="plain.tif")
    coarse = write_raster(arr[0, ::2, ::2], (0.0, 2.0, 0.0, 10.0, 0.0, -2.0), name="coarse.tif")
    with RasterStack([plain, coarse]) as stack:
        windows = list(stack.windows(16)) * 3
        alone = [stack.read(w) for w in windows]
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(stack.read, windows))
        assert stack.warped == [False, True] and len(stack._handles) > 1
    for a, b in zip(alone, together):
        assert np.array_equal(a.data, b.data, equal_nan=True) and np.array_equal(a.mask, b.mask)


def test_align_rasters_writes_named_bands(write_raster, tmp_path):
    a = write_raster(np.ones((5, 5)), name="dem.tif")
    b = write_raster(np.full((5, 5), 2.0), name="dist.tif")
    names = align_rasters([a, b], tmp_path / "out" / "stack.tif")
    ds = open_raster(tmp_path / "out" / "stack.tif")
    assert names == ["dem", "dist"] and ds.RasterCount == 2
    assert ds.GetRasterBand(2).GetDescription() == "dist"
    assert ds.GetMetadataItem("GEOML_ALGORITHM") == "geoml_qgis.core.io.align_rasters"  # called as a library
    align_rasters([a], tmp_path / "named.tif", algorithm="geoml:alignrasters")  # the caller names itself
    assert open_raster(tmp_path / "named.tif").GetMetadataItem("GEOML_ALGORITHM") == "geoml:alignrasters"


def test_missing_and_unreadable_rasters_have_clear_errors(tmp_path):
    with pytest.raises(GeoMLError, match="not found"):
        open_raster(tmp_path / "nope.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(GeoMLError, match="cannot read"):
        open_raster(bad)


def test_geographic_crs_is_refused_with_the_fix():
    with pytest.raises(GeoMLError, match="Reproject"):
        require_projected(to_wkt("EPSG:4326"), "the sample layer")
    require_projected(to_wkt("EPSG:28992"))


def test_gdal_exceptions_enabled():
    assert gdal.GetUseExceptions()
