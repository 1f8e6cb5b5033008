"""Data dictionary: every layer's columns, kinds and which hold personal data."""

import pandas as pd
import streamlit as st

from app import messages as M
from app.views.common import show_table, store_or_stop
from layers.catalogue import KIND_LABELS, LAYERS

st.title(M.PAGE_LAYERS)
store = store_or_stop()
labels = {name: f"{layer.label}（{name}）" for name, layer in LAYERS.items()}
name = st.selectbox("图层", list(LAYERS), format_func=labels.get, key="layer_pick")
layer = LAYERS[name]
c1, c2, c3 = st.columns(3)
c1.metric("记录数", store.count(name))
c2.metric("几何类型", layer.geometry_label)
c3.metric("含个人信息", "是" if layer.sensitive else "否")
show_table(
    pd.DataFrame(
        [
            {
                "列名": col.name,
                "中文名": col.label,
                "类型": KIND_LABELS[col.kind],
                "必填": "是" if col.required else "",
                "个人信息": "是" if col.personal else "",
                "取值": "、".join(col.choices.values()) if col.choices else "",
            }
            for col in layer.columns
        ]
    ),
)
