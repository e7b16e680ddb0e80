<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology">
  <pipe>
    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency/>
      <colorPalette>
        <paletteEntry value="1" color="#4e79a7" alpha="255" label="kaolinite"/>
        <paletteEntry value="2" color="#f28e2b" alpha="255" label="alunite"/>
        <paletteEntry value="3" color="#e15759" alpha="255" label="muscovite"/>
        <paletteEntry value="4" color="#76b7b2" alpha="255" label="montmorillonite"/>
        <paletteEntry value="5" color="#59a14f" alpha="255" label="calcite"/>
        <paletteEntry value="6" color="#edc948" alpha="255" label="dolomite"/>
        <paletteEntry value="7" color="#b07aa1" alpha="255" label="chlorite"/>
        <paletteEntry value="8" color="#ff9da7" alpha="255" label="epidote"/>
        <paletteEntry value="9" color="#9c755f" alpha="255" label="jarosite"/>
        <paletteEntry value="10" color="#bab0ac" alpha="255" label="pyrophyllite"/>
      </colorPalette>
    </rasterrenderer>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
