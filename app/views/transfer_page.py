"""Import and export: ledger and GIS file upload, column mapping, check (dry run), confirm;
templates and exports for download. Nothing is written before “确认导入”, and then all or none."""

import tempfile
from pathlib import Path

import streamlit as st

from app import messages as M
from app.views.common import (
    GIS_UPLOAD,
    TABLE_UPLOAD,
    download,
    pick_place,
    read_or_explain,
    show_plan,
    store_or_stop,
)
from geo.crs import SOURCE_SYSTEMS
from layers import exporters, ledger
from layers.child_import import apply_import, plan_import
from layers.errors import StoreError
from layers.geofile import GeoFileError, read_geofile
from layers.layer_import import KINDS, TYPE_COLUMN, apply_layer, plan_layer
from layers.tabular import TableError, read_table

st.title(M.PAGE_TRANSFER)
store = store_or_stop()
CRS_CHOICES = {"": "（文件自带坐标系 / 请选择）", **SOURCE_SYSTEMS}
tab_children, tab_layer, tab_export = st.tabs(["导入儿童台账", "导入图层", "导出"])


def _confirm(key: str, apply) -> None:
    """The checked plan of this tab, and “确认导入” when it has no errors (writes all or none)."""
    plan = st.session_state.get(f"{key}_plan")
    if plan is not None and show_plan(plan, key):
        if st.button("确认导入", type="primary", key=f"{key}_apply"):
            counts = apply(store, plan)
            st.session_state.pop(f"{key}_plan", None)
            st.session_state[f"{key}_done"] = M.TRANSFER_DONE.format(**counts)
            st.rerun()


with tab_children:
    if "ledger_done" in st.session_state:
        st.success(st.session_state.pop("ledger_done"))
    if not store.scope.can("import"):
        st.info(M.TRANSFER_NOT_ALLOWED)
    else:
        kind = st.radio("台账类型", list(ledger.LEDGERS), format_func=ledger.LEDGERS.get,
                        horizontal=True, key="ledger_kind")  # fmt: skip
        download(st, "下载空白模板（Excel）", lambda kind=kind: ledger.template_bytes(kind),
                 f"{ledger.LEDGERS[kind]}.xlsx", key="ledger_template")  # fmt: skip
        upload = st.file_uploader("选择台账文件（.xlsx 或 .csv）", type=TABLE_UPLOAD,
                                  key="ledger_file")  # fmt: skip
        crs = st.selectbox("经纬度坐标系", list(CRS_CHOICES), format_func=CRS_CHOICES.get,
                           key="ledger_crs")  # fmt: skip
        table = upload and read_or_explain(
            (TableError,), read_table, upload.getvalue(), upload.name, ledger.KNOWN_HEADERS
        )
        if table is not None:
            st.caption(f"读取 {len(table.rows)} 行（{table.encoding}）。请核对列的对应关系：")
            guessed = ledger.guess_mapping(table.columns)
            mapping = {}
            with st.expander("列对应（系统已按表头自动识别）", expanded=False):
                cols = st.columns(3)
                options = ["", *table.columns]
                for i, field in enumerate(ledger.FIELDS):
                    chosen = cols[i % 3].selectbox(
                        field.header + ("（必填）" if field.required else ""), options,
                        index=options.index(guessed.get(field.name, "")),
                        format_func=lambda c: c or "（无）", key=f"map_{field.name}",
                    )  # fmt: skip
                    if chosen:
                        mapping[field.name] = chosen
            if st.button("检查（不写入）", key="ledger_check"):
                st.session_state["ledger_plan"] = plan_import(
                    store, table, mapping, source_crs=crs or None, ledger_kind=kind
                )
            _confirm("ledger", apply_import)

with tab_layer:
    if "layer_done" in st.session_state:
        st.success(st.session_state.pop("layer_done"))
    if not store.scope.can("import"):
        st.info(M.TRANSFER_NOT_ALLOWED)
    else:
        kind = st.selectbox("导入到图层", list(KINDS), format_func=KINDS.get, key="layer_kind")
        upload = st.file_uploader(
            "选择文件（GeoJSON、Shapefile 压缩包 .zip、GeoPackage、KML/KMZ、CSV）",
            type=GIS_UPLOAD, key="layer_file",
        )  # fmt: skip
        crs = st.selectbox(
            "坐标系（GeoJSON/KML 来自高德、百度时请选 GCJ-02 或 BD-09）",
            list(CRS_CHOICES),
            format_func=CRS_CHOICES.get,
            key="layer_crs",
        )
        defaults = {}
        type_col = TYPE_COLUMN.get(kind)
        if type_col:
            from layers.catalogue import get_layer

            choices = {"": "（按文件中的类型列）", **get_layer(kind).column(type_col).choices}
            given = st.selectbox("文件没有类型列时，全部要素的类型", list(choices),
                                 format_func=choices.get, key="layer_type")  # fmt: skip
            if given:
                defaults[type_col] = given
        if upload is not None and st.button("检查（不写入）", key="layer_check"):
            refused = (GeoFileError, TableError)  # a CSV of points is read as a table
            data = upload.getvalue()
            geofile = read_or_explain(refused, read_geofile, data, upload.name, crs or None)
            if geofile is not None:
                for warning in geofile.warnings:
                    st.warning(warning)
                st.session_state["layer_plan"] = plan_layer(store, kind, geofile, defaults=defaults)
        if upload is not None:
            _confirm("layer", apply_layer)

with tab_export:
    c1, c2 = st.columns(2)
    place = pick_place(store, c1, c2, "export")
    stem = place.scope[0]
    options = {}
    if store.scope.can("children"):
        options.update({kind: f"{title.split(' ')[0]}台账（Excel）" for kind, title in
                        ledger.LEDGERS.items()})  # fmt: skip
    options["gpkg"] = "全部图层（GeoPackage，可用 QGIS 打开）"
    for name in ("water_bodies", "slopes", "facilities", "point_hazards", "villages"):
        options[f"{name}.kml"] = f"{KINDS[name]}（KML，手机地图、奥维）"
        options[f"{name}.geojson"] = f"{KINDS[name]}（GeoJSON）"
    what = st.selectbox("导出内容", list(options), format_func=options.get, key="export_what")
    if store.scope.can("children") and not store.scope.can("export_personal"):
        st.caption(M.CHILDREN_EXPORT_MASKED)
    if st.button("生成文件", key="export_make"):
        with tempfile.TemporaryDirectory() as tmp:
            if what in ledger.LEDGERS:
                fmt, filename = "xlsx", f"{ledger.LEDGERS[what]}_{stem}.xlsx"
            elif what == "gpkg":
                fmt, filename = "gpkg", f"守护数据_{stem}.gpkg"
            else:
                name, fmt = what.split(".")
                filename = f"{KINDS[name]}_{stem}.{fmt}"
            path = Path(tmp) / f"export.{fmt}"
            try:
                if what in ledger.LEDGERS:
                    rows = exporters.export_ledger(store, what, path, place.scope)
                elif what == "gpkg":
                    rows = sum(exporters.export_geopackage(store, path, place.scope).values())
                elif fmt == "kml":
                    rows = exporters.export_kml(store, name, path, place.scope)
                else:
                    rows = exporters.export_geojson(store, name, path, place.scope)
            except StoreError as exc:
                st.error(exc.user_msg)
                st.stop()
            st.session_state["export_file"] = (what, fmt, filename, rows, path.read_bytes())

    def _log(what: str, fmt: str, rows: int) -> None:
        store.accounts().audit(store.scope.username, "export", layer=what, rows=rows,
                               detail={"format": fmt, "place": place.scope})  # fmt: skip

    made = st.session_state.get("export_file")
    if made is not None and made[0] == what:
        _what, fmt, filename, rows, data = made
        download(st, f"下载 {filename}（{rows} 条）", lambda: data, filename, key="export_download",
                 log=lambda: _log(what, fmt, rows))  # fmt: skip
