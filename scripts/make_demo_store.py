#!/usr/bin/env python3
"""Generate the bundled demo store data for shopguide.

Writes three JSONL files into ``shopguide/demo/``:

* ``products.jsonl``  - the product catalogue (~176 items, 7 categories)
* ``faqs.jsonl``      - store policy FAQ entries
* ``documents.jsonl`` - extra per-product knowledge (reviews, Q&A, spec lines)

The output is fully deterministic (fixed random seed, stdlib only, no network),
so re-running the script reproduces byte-identical files.

    python scripts/make_demo_store.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20240611
OUT_DIR = Path(__file__).resolve().parent.parent / "shopguide" / "demo"

COLORS = [
    "black", "white", "grey", "navy", "blue", "red", "green", "olive",
    "brown", "orange", "yellow", "purple", "pink", "beige", "teal",
]

# --------------------------------------------------------------------------
# Brands (invented). Several brands span more than one category.
# --------------------------------------------------------------------------
BRANDS = {
    "footwear": ["Ridgeline", "Stonepine", "Trailwisp", "Alpenkarr"],
    "jackets": ["Northvale", "Ridgeline", "Tundrix", "Skyforge"],
    "backpacks": ["Ridgeline", "Wildmere", "Cairnpack", "Trailwisp"],
    "tents": ["Wildmere", "Tundrix", "Larchwood"],
    "sleeping bags": ["Northvale", "Tundrix", "Larchwood", "Emberlite"],
    "clothing": ["Northvale", "Stonepine", "Brightcairn", "Fellwarden"],
    "accessories": ["Emberlite", "Skyforge", "Cairnpack", "Brightcairn", "Wildmere"],
}

# Model names; drawn without replacement per category so titles stay unique.
MODEL_NAMES = [
    "Summit", "Talus", "Scree", "Cirrus", "Boreal", "Vista", "Ascent", "Granite",
    "Larch", "Fjord", "Moraine", "Cascade", "Tarn", "Corrie", "Ember", "Glacier",
    "Horizon", "Kestrel", "Lynx", "Marten", "Nimbus", "Osprey", "Pika", "Quartz",
    "Raven", "Sierra", "Tundra", "Umbra", "Vector", "Wren", "Yarrow", "Zephyr",
    "Alder", "Basalt", "Cedar", "Dune", "Eiger", "Flint", "Gale", "Heron",
    "Ibex", "Juniper", "Kite", "Lichen", "Mistral", "Nordic", "Obsidian", "Pine",
    "Quill", "Ridge", "Spruce", "Thistle", "Upland", "Valley", "Willow", "Aspen",
    "Bracken", "Caldera", "Drift", "Esker", "Fells", "Gully", "Heath", "Isle",
    "Jasper", "Karst", "Ledge", "Meadow", "Nettle", "Outpost", "Pinnacle", "Rill",
    "Solstice", "Trail", "Uplift", "Verglas", "Wildfire", "Aurora", "Bivouac",
    "Couloir", "Dolomite", "Escarpment", "Firn", "Grouse", "Hollow", "Inlet",
]

# --------------------------------------------------------------------------
# Product type tables.
#   count: how many products to generate
#   price: (low, high) in EUR
#   weight: (low, high) in grams
# --------------------------------------------------------------------------
TYPES = {
    # ---------------- footwear ----------------
    "hiking boots": dict(
        category="footwear", code="HB", noun="Hiking Boot", count=16,
        price=(79, 249), weight=(780, 1450),
        materials=["full-grain leather", "nubuck leather", "suede and nylon mesh", "synthetic leather"],
        colors=["brown", "black", "grey", "olive", "navy", "beige", "orange"],
    ),
    "running shoes": dict(
        category="footwear", code="RS", noun="Running Shoe", count=6,
        price=(69, 169), weight=(440, 620),
        materials=["engineered mesh", "nylon mesh", "recycled polyester knit"],
        colors=["black", "white", "blue", "red", "pink", "grey", "yellow", "teal"],
    ),
    "trail running shoes": dict(
        category="footwear", code="TR", noun="Trail Running Shoe", count=6,
        price=(89, 179), weight=(520, 720),
        materials=["nylon mesh", "engineered mesh", "ripstop nylon"],
        colors=["black", "orange", "green", "blue", "grey", "purple", "teal"],
    ),
    "sandals": dict(
        category="footwear", code="SD", noun="Sandal", count=4,
        price=(39, 99), weight=(380, 640),
        materials=["polyester webbing", "recycled polyester webbing", "synthetic leather"],
        colors=["black", "brown", "olive", "navy", "beige"],
    ),
    "approach shoes": dict(
        category="footwear", code="AP", noun="Approach Shoe", count=4,
        price=(109, 189), weight=(700, 900),
        materials=["suede", "nubuck leather", "synthetic leather and mesh"],
        colors=["grey", "blue", "orange", "olive", "black"],
    ),
    # ---------------- jackets ----------------
    "rain jacket": dict(
        category="jackets", code="RJ", noun="Rain Jacket", count=7,
        price=(79, 349), weight=(190, 520),
        materials=["ripstop nylon", "recycled polyester", "nylon"],
        colors=["black", "navy", "red", "green", "yellow", "blue", "orange", "teal"],
    ),
    "down jacket": dict(
        category="jackets", code="DJ", noun="Down Jacket", count=6,
        price=(129, 399), weight=(240, 620),
        materials=["down 700 fill", "down 800 fill", "down 650 fill", "down 850 fill"],
        colors=["black", "navy", "red", "olive", "grey", "orange", "purple"],
    ),
    "fleece jacket": dict(
        category="jackets", code="FJ", noun="Fleece Jacket", count=6,
        price=(49, 149), weight=(280, 560),
        materials=["polyester", "recycled polyester", "grid fleece polyester"],
        colors=["grey", "navy", "green", "beige", "black", "teal", "pink"],
    ),
    "softshell jacket": dict(
        category="jackets", code="SJ", noun="Softshell Jacket", count=5,
        price=(99, 229), weight=(340, 560),
        materials=["stretch polyamide", "polyester with elastane", "recycled polyester"],
        colors=["black", "grey", "blue", "olive", "red"],
    ),
    "insulated parka": dict(
        category="jackets", code="IP", noun="Insulated Parka", count=4,
        price=(199, 499), weight=(900, 1600),
        materials=["down 650 fill", "synthetic insulation", "down 700 fill"],
        colors=["black", "navy", "olive", "beige", "red"],
    ),
    # ---------------- backpacks ----------------
    "daypack": dict(
        category="backpacks", code="DP", noun="Daypack", count=6,
        price=(39, 119), weight=(420, 950),
        materials=["ripstop nylon", "recycled polyester", "polyester", "nylon"],
        colors=["black", "blue", "red", "green", "grey", "orange", "teal"],
        volumes=[16, 18, 20, 22, 25, 28],
    ),
    "hiking backpack": dict(
        category="backpacks", code="HP", noun="Hiking Backpack", count=7,
        price=(119, 329), weight=(1150, 2400),
        materials=["ripstop nylon", "recycled polyester", "high-tenacity nylon"],
        colors=["black", "blue", "red", "green", "grey", "olive", "orange"],
        volumes=[35, 40, 45, 50, 55, 65, 75],
    ),
    "travel backpack": dict(
        category="backpacks", code="TB", noun="Travel Backpack", count=5,
        price=(89, 219), weight=(1000, 1900),
        materials=["polyester", "recycled polyester", "nylon"],
        colors=["black", "grey", "navy", "olive", "beige"],
        volumes=[30, 35, 40, 45],
    ),
    "hydration pack": dict(
        category="backpacks", code="HY", noun="Hydration Pack", count=4,
        price=(49, 139), weight=(240, 520),
        materials=["nylon mesh", "ripstop nylon", "recycled polyester"],
        colors=["black", "blue", "orange", "teal", "red"],
        volumes=[5, 8, 10, 12],
    ),
    # ---------------- tents ----------------
    "backpacking tent": dict(
        category="tents", code="BT", noun="Backpacking Tent", count=6,
        price=(179, 479), weight=(1400, 2900),
        materials=["ripstop nylon", "silicone-coated nylon", "polyester"],
        colors=["green", "orange", "grey", "olive", "yellow"],
    ),
    "family tent": dict(
        category="tents", code="FT", noun="Family Tent", count=4,
        price=(249, 649), weight=(7500, 16000),
        materials=["polyester", "polycotton", "recycled polyester"],
        colors=["green", "beige", "grey", "blue"],
    ),
    "ultralight tent": dict(
        category="tents", code="UT", noun="Ultralight Tent", count=4,
        price=(299, 629), weight=(690, 1250),
        materials=["silicone-coated nylon", "Dyneema composite fabric", "ripstop nylon"],
        colors=["grey", "olive", "green", "white", "yellow"],
    ),
    # ---------------- sleeping bags ----------------
    "down sleeping bag": dict(
        category="sleeping bags", code="DS", noun="Down Sleeping Bag", count=6,
        price=(179, 549), weight=(650, 1650),
        materials=["down 700 fill", "down 800 fill", "down 650 fill", "down 850 fill"],
        colors=["red", "navy", "orange", "green", "grey", "blue"],
    ),
    "synthetic sleeping bag": dict(
        category="sleeping bags", code="SS", noun="Synthetic Sleeping Bag", count=5,
        price=(59, 199), weight=(1000, 2100),
        materials=["polyester", "recycled polyester", "hollow-fibre polyester"],
        colors=["blue", "green", "grey", "olive", "orange", "black"],
    ),
    "kids sleeping bag": dict(
        category="sleeping bags", code="KS", noun="Kids Sleeping Bag", count=3,
        price=(39, 89), weight=(700, 1100),
        materials=["polyester", "recycled polyester"],
        colors=["pink", "blue", "yellow", "purple", "teal", "green"],
    ),
    # ---------------- clothing ----------------
    "t-shirt": dict(
        category="clothing", code="TS", noun="T-Shirt", count=7,
        price=(19, 69), weight=(110, 190),
        materials=["merino wool", "recycled polyester", "organic cotton", "polyester", "merino-polyester blend"],
        colors=["white", "black", "grey", "navy", "green", "red", "beige", "teal", "pink", "yellow"],
    ),
    "hiking pants": dict(
        category="clothing", code="PA", noun="Hiking Pants", count=6,
        price=(59, 149), weight=(260, 480),
        materials=["stretch polyamide", "polyester with elastane", "organic cotton canvas", "recycled polyester"],
        colors=["black", "grey", "olive", "beige", "navy", "brown"],
    ),
    "shorts": dict(
        category="clothing", code="SH", noun="Shorts", count=5,
        price=(29, 79), weight=(140, 260),
        materials=["stretch polyamide", "recycled polyester", "organic cotton"],
        colors=["black", "grey", "olive", "beige", "navy", "blue"],
    ),
    "base layer": dict(
        category="clothing", code="BL", noun="Base Layer", count=6,
        price=(39, 119), weight=(140, 280),
        materials=["merino wool", "merino-polyester blend", "polypropylene", "recycled polyester"],
        colors=["black", "grey", "navy", "red", "purple", "teal"],
    ),
    "socks": dict(
        category="clothing", code="SO", noun="Socks", count=6,
        price=(11, 29), weight=(45, 110),
        materials=["merino wool", "merino-nylon blend", "polyester", "coolmax polyester"],
        colors=["grey", "black", "navy", "green", "red", "orange", "brown"],
    ),
    "beanie": dict(
        category="clothing", code="BE", noun="Beanie", count=4,
        price=(19, 49), weight=(50, 110),
        materials=["merino wool", "recycled polyester fleece", "acrylic"],
        colors=["black", "grey", "red", "navy", "olive", "orange", "yellow", "beige"],
    ),
    # ---------------- accessories ----------------
    "headlamp": dict(
        category="accessories", code="HL", noun="Headlamp", count=5,
        price=(24, 119), weight=(50, 160),
        materials=["polycarbonate", "aluminium", "ABS plastic"],
        colors=["black", "orange", "blue", "grey", "yellow"],
    ),
    "trekking poles": dict(
        category="accessories", code="TP", noun="Trekking Poles", count=4,
        price=(49, 189), weight=(360, 620),
        materials=["aluminium", "carbon fibre", "aluminium 7075"],
        colors=["black", "grey", "blue", "red"],
    ),
    "water bottle": dict(
        category="accessories", code="WB", noun="Water Bottle", count=5,
        price=(14, 44), weight=(90, 480),
        materials=["stainless steel", "BPA-free Tritan plastic", "aluminium"],
        colors=["black", "white", "blue", "green", "teal", "pink", "orange", "purple"],
    ),
    "sunglasses": dict(
        category="accessories", code="SG", noun="Sunglasses", count=4,
        price=(39, 169), weight=(24, 38),
        materials=["nylon frame with polycarbonate lenses", "TR90 frame with polycarbonate lenses", "acetate frame with glass lenses"],
        colors=["black", "grey", "brown", "blue", "white"],
    ),
    "gloves": dict(
        category="accessories", code="GL", noun="Gloves", count=4,
        price=(24, 99), weight=(60, 220),
        materials=["polyester fleece", "goat leather and nylon", "merino wool", "nylon with synthetic insulation"],
        colors=["black", "grey", "navy", "olive"],
    ),
    "camp stove": dict(
        category="accessories", code="CS", noun="Camp Stove", count=4,
        price=(34, 169), weight=(75, 520),
        materials=["stainless steel", "aluminium", "titanium"],
        colors=["grey", "black", "orange"],
    ),
    "dry bag": dict(
        category="accessories", code="DB", noun="Dry Bag", count=4,
        price=(12, 39), weight=(40, 210),
        materials=["TPU-coated nylon", "PVC-free polyester", "ripstop nylon"],
        colors=["yellow", "orange", "blue", "red", "black", "green"],
    ),
}

# Title descriptors per type (waterproof ones are chosen only when waterproof=True)
DESCRIPTORS = {
    "hiking boots": {"wp": ["Waterproof", "GTX", "Waterproof Mid", "GTX Mid", "Waterproof Leather"],
                     "dry": ["Lightweight", "Vent Mid", "Breathable", "Leather Mid"]},
    "running shoes": {"dry": ["Road", "Daily", "Tempo", "Cushion", "Neutral", "Stability"]},
    "trail running shoes": {"wp": ["GTX"], "dry": ["Grip", "Ultra", "Speed", "Technical", "Cushion"]},
    "sandals": {"dry": ["Hiking", "Sport", "Trek", "Strap"]},
    "approach shoes": {"dry": ["Pro", "Suede", "Climb", "Lace"]},
    "rain jacket": {"wp": ["3L", "2.5L", "Packable", "Stretch", "Storm", "Light"]},
    "down jacket": {"dry": ["Hooded", "Light", "Ultralight", "Expedition", "Packable"]},
    "fleece jacket": {"dry": ["Grid", "Full-Zip", "Hooded", "Sherpa", "Micro"]},
    "softshell jacket": {"dry": ["Alpine", "Hooded", "Stretch", "Windproof"]},
    "insulated parka": {"wp": ["Waterproof", "Waterproof Hooded"], "dry": ["City", "Arctic"]},
    "daypack": {"dry": [""]},
    "hiking backpack": {"dry": [""]},
    "travel backpack": {"dry": ["Carry-On", "Duffel", "Nomad", ""]},
    "hydration pack": {"dry": ["Run", "Bike", "Trail", ""]},
    "backpacking tent": {"dry": [""]},
    "family tent": {"dry": [""]},
    "ultralight tent": {"dry": [""]},
    "down sleeping bag": {"dry": [""]},
    "synthetic sleeping bag": {"dry": [""]},
    "kids sleeping bag": {"dry": [""]},
    "t-shirt": {"dry": ["Merino", "Tech", "Organic", "Trail", "Everyday", "Sun"]},
    "hiking pants": {"dry": ["Convertible", "Stretch", "Trek", "Canvas", "Lightweight"]},
    "shorts": {"dry": ["Trail", "Stretch", "Cargo", "Running"]},
    "base layer": {"dry": ["Merino Crew", "Merino Zip", "Thermal Crew", "Long Sleeve", "Merino Leggings", "Thermal Leggings"]},
    "socks": {"dry": ["Merino Hiking", "Trail Running", "Crew Hiking", "Liner", "Expedition", "Lightweight Hiking"]},
    "beanie": {"dry": ["Merino", "Fleece", "Cable Knit", "Ribbed"]},
    "headlamp": {"dry": [""]},
    "trekking poles": {"dry": ["Carbon", "Folding", "Alu", "Cork"]},
    "water bottle": {"dry": ["Insulated", "Sport", "Wide-Mouth", "Trail", "Insulated"]},
    "sunglasses": {"dry": ["Polarized", "Glacier", "Sport", "Trail"]},
    "gloves": {"wp": ["Waterproof Insulated", "Waterproof"], "dry": ["Fleece", "Merino Liner", "Via Ferrata"]},
    "camp stove": {"dry": ["Canister", "Integrated", "Titanium", "Multi-Fuel"]},
    "dry bag": {"dry": [""]},
}

# --------------------------------------------------------------------------
# Description fragments. Placeholders: {name} {model} {brand} {material}
# {weight} {gender_word} {colors} {volume} {capacity} {comfort} ...
# --------------------------------------------------------------------------
INTROS = {
    "footwear": [
        "The {name} is a {gender_word} {noun_l} built around a {material} upper.",
        "Meet the {name}, {a_material} {noun_l} designed {gender_for}.",
        "{brand}'s {model} {noun_l} pairs a {material} upper with a grippy rubber outsole.",
        "Built on a {gender_word} last, the {name} uses a {material} upper and a supportive midsole.",
    ],
    "jackets": [
        "The {name} is a {gender_word} {noun_l} made from {material}.",
        "{brand}'s {model} {noun_l} is cut {gender_for} and made from {material}.",
        "Meet the {name}, a versatile {noun_l} in {material}.",
    ],
    "backpacks": [
        "The {name} is a {volume}-litre {noun_l} made from durable {material}.",
        "{brand}'s {model} offers {volume} litres of storage in a {material} {noun_l}.",
        "With a {volume} L main compartment, the {name} is built from {material}.",
    ],
    "tents": [
        "The {name} is a {capacity}-person, {season} tent with a {material} flysheet.",
        "{brand}'s {model} sleeps {capacity} and is built with a {material} fly for {season} use.",
        "Designed for {capacity} people, the {name} is a {season} shelter made from {material}.",
    ],
    "sleeping bags": [
        "The {name} is a {shape}-shaped sleeping bag with a comfort rating of {comfort} °C.",
        "{brand}'s {model} is filled with {material} insulation and rated for comfort down to {comfort} °C.",
        "Rated to a comfort temperature of {comfort} °C, the {name} uses {material} insulation.",
    ],
    "clothing": [
        "The {name} {is_are} made from {material} and cut {gender_for}, for hikers and travellers alike.",
        "{brand}'s {model} {noun_l} {is_are} made from {material} and cut {gender_for}.",
        "Meet the {name}, a {material} piece that works from trail to town.",
    ],
    "accessories": [
        "The {name} {is_are} made from {material}.",
        "{brand}'s {model} {noun_l} {is_are} trail-tested kit made from {material}.",
        "Built from {material}, the {name} is made for everyday outdoor use.",
    ],
}

WATERPROOF_YES = {
    "footwear": [
        "A waterproof, breathable membrane keeps your feet dry through puddles, wet grass and slush.",
        "It is fully waterproof thanks to a sealed membrane liner and a gusseted tongue that keeps debris and water out.",
        "The waterproof membrane lets you splash through stream crossings and boggy ground without wet socks.",
    ],
    "jackets": [
        "It is fully waterproof, with a {hh} mm waterproof membrane and taped seams for sustained downpours.",
        "Taped seams and a {hh} mm waterproof rating keep you dry in persistent rain and wet snow.",
        "The waterproof, breathable shell is rated to {hh} mm and every seam is fully taped.",
    ],
    "gloves": [
        "A waterproof insert keeps your hands dry when handling wet ropes, snow or trekking poles.",
        "They are waterproof thanks to a breathable membrane insert between shell and lining.",
    ],
}
WATERPROOF_NO = {
    "footwear": [
        "It is not waterproof: the breathable upper is designed to keep feet cool and to dry quickly on warm, dry trails.",
        "The upper is water-resistant rather than waterproof, trading full weather protection for breathability.",
        "There is no waterproof membrane, so it breathes well in summer heat and dries fast after a splash.",
    ],
    "down jacket": [
        "A DWR-treated shell makes it water-resistant in light drizzle, but it is not waterproof, so layer a shell over it in real rain.",
        "The outer fabric is water-resistant against snow and light showers; it is not a waterproof jacket.",
    ],
    "fleece jacket": [
        "Fleece is not waterproof, so wear it as a midlayer under a shell when rain is forecast.",
        "It breathes well during high output, but it is not waterproof and is best paired with a rain jacket.",
    ],
    "softshell jacket": [
        "The fabric is windproof and water-resistant, shrugging off light showers, but it is not fully waterproof.",
        "A DWR finish makes it water-resistant for brief showers; it is not a waterproof shell.",
    ],
    "insulated parka": [
        "The shell is water-resistant for snow and light drizzle, though it is not a waterproof jacket.",
    ],
    "gloves": [
        "They are not waterproof, so they are best for dry, cold days or as a liner under a shell mitt.",
        "The fabric is water-resistant at best; pick a waterproof pair for wet conditions.",
    ],
}

TYPE_FEATURES = {
    "hiking boots": [
        "A {cut}-cut collar gives {cut_support} ankle support on rocky paths.",
        "The lugged rubber outsole grips well on loose gravel and wet roots.",
        "A cushioned EVA midsole and a TPU shank take the sting out of long descents.",
        "A rubber toe cap protects against scuffs and stubbed toes.",
        "It suits day hikes and multi-day treks with a moderate pack.",
        "The lacing system locks the heel in place to prevent blisters on steep climbs.",
    ],
    "running shoes": [
        "A {drop} mm heel-to-toe drop and responsive foam make it a comfortable daily trainer.",
        "The breathable mesh upper keeps feet cool on summer runs.",
        "It is built for road runs from 5 km intervals to half-marathon training.",
        "A durable rubber outsole covers the high-wear zones for long mileage.",
        "The padded heel collar and flat laces give a secure, comfortable lockdown.",
    ],
    "trail running shoes": [
        "Aggressive 4 mm lugs bite into mud, scree and forest trails.",
        "A {drop} mm drop and a rock plate protect your feet on technical terrain.",
        "It is light enough for racing yet cushioned enough for long mountain runs.",
        "A gaiter attachment point and quick-lace system keep grit out.",
        "The sticky rubber compound grips well on wet rock.",
    ],
    "sandals": [
        "Adjustable straps at heel, ankle and forefoot give a secure fit on uneven ground.",
        "A contoured footbed supports the arch on long summer walks.",
        "It dries quickly after river crossings and beach days.",
        "The grippy outsole handles wet rock and slippery harbour steps.",
    ],
    "approach shoes": [
        "A sticky climbing-rubber outsole with a smooth climbing zone at the toe handles scrambles and easy rock routes.",
        "Lace-to-toe closure allows precise fit adjustment for edging.",
        "It is at home on approach paths, via ferratas and rocky ridges.",
        "A heel loop lets you clip it to your harness on multi-pitch routes.",
    ],
    "rain jacket": [
        "An adjustable, helmet-compatible hood keeps rain off your face.",
        "Pit zips let you dump heat on steep climbs.",
        "It packs into its own chest pocket for easy storage in a daypack.",
        "Two hand pockets sit above a hip belt so they stay accessible with a pack on.",
        "It weighs around {weight} g in size M, making it an easy always-pack layer.",
    ],
    "down jacket": [
        "Baffled chambers keep the {fill_power}-fill-power down evenly distributed.",
        "It compresses into its own pocket and weighs about {weight} g in size M.",
        "Use it as a warm belay jacket, camp layer or winter city jacket.",
        "Elastic cuffs and a drawcord hem seal in warmth.",
        "The down is responsibly sourced and certified to animal-welfare standards.",
    ],
    "fleece jacket": [
        "The brushed interior traps warmth while wicking sweat away from the skin.",
        "A full-length zip and zipped hand pockets make it easy to vent.",
        "It works as a standalone jacket on cool evenings or a midlayer in winter.",
        "It weighs about {weight} g in size M and packs down reasonably small.",
        "Flatlock seams prevent chafing under a backpack.",
    ],
    "softshell jacket": [
        "Four-way stretch fabric moves with you on scrambles and ski tours.",
        "It breathes far better than a hardshell during high-output activity.",
        "A chest pocket and two hand pockets keep essentials close.",
        "Adjustable cuffs and a hem drawcord seal out wind.",
    ],
    "insulated parka": [
        "A longer cut covers the hips for extra warmth in winter.",
        "A fleece-lined hood with a removable faux-fur trim blocks icy wind.",
        "Insulated hand-warmer pockets and an inner media pocket keep things warm and close.",
        "It is designed for cold winter commutes and snowy weekends.",
    ],
    "daypack": [
        "A padded back panel and breathable mesh shoulder straps keep it comfortable all day.",
        "Side stretch pockets hold a 1 L bottle each.",
        "It is ideal for day hikes, commuting and city trips.",
        "The main compartment opens wide with a U-shaped zip.",
        "A removable sternum strap and light waist belt stabilise the load.",
    ],
    "hiking backpack": [
        "An adjustable back system lets you fine-tune the torso length.",
        "A padded hip belt transfers weight to your hips for multi-day treks.",
        "The lid pocket, front stretch pocket and side pockets keep gear organised.",
        "Trekking pole and ice axe loops are included.",
        "An integrated rain cover stows in the base.",
    ],
    "travel backpack": [
        "It opens like a suitcase for easy packing and unpacking.",
        "A padded sleeve holds a laptop up to 16 inches.",
        "Stowable shoulder straps and a hip belt tuck away for check-in.",
        "Lockable zips add peace of mind in hostels and on trains.",
        "It fits most airline carry-on size limits when not overstuffed.",
    ],
    "hydration pack": [
        "A 1.5 L reservoir sleeve and hose routing keep water within reach.",
        "The vest-style harness stays stable on fast descents.",
        "Front pockets hold soft flasks, gels and a phone.",
        "It is made for trail runs, mountain biking and fast hikes.",
    ],
    "backpacking tent": [
        "Colour-coded poles and clips make pitching quick even in fading light.",
        "{doors_text} room for boots and packs.",
        "The fly is rated to {hh} mm and all seams are taped.",
        "It packs down small enough to split between two backpacks.",
        "Mesh inner panels reduce condensation on humid nights.",
    ],
    "family tent": [
        "Tall walls and {height} cm of headroom let adults stand up inside.",
        "Separate blackout bedrooms help kids sleep past sunrise.",
        "A large living area with a sewn-in groundsheet keeps out draughts and insects.",
        "The fly is rated to {hh} mm and all seams are taped.",
        "It is best suited to campsite trips where weight is not a concern.",
    ],
    "ultralight tent": [
        "It pitches with trekking poles, saving the weight of dedicated tent poles.",
        "At roughly {weight} g it is one of the lightest shelters in our range.",
        "The fly is rated to {hh} mm and the seams are sealed.",
        "It is ideal for thru-hikes, bikepacking and fastpacking.",
        "A single door and a compact vestibule keep the footprint small.",
    ],
    "down sleeping bag": [
        "A draught collar and zip baffle stop warm air escaping on cold nights.",
        "It compresses into the included stuff sack, weighing about {weight} g.",
        "A contoured hood and footbox give room without dead air space.",
        "The limit temperature is {limit} °C for experienced sleepers.",
        "Store it loosely in the supplied cotton storage sack to protect the loft.",
    ],
    "synthetic sleeping bag": [
        "Synthetic fill keeps insulating even when damp, making it a good choice for humid climates.",
        "A full-length two-way zip lets you vent on warm nights.",
        "It is machine washable on a gentle cycle.",
        "The limit temperature is {limit} °C for experienced sleepers.",
        "It weighs about {weight} g and comes with a compression sack.",
    ],
    "kids sleeping bag": [
        "It is sized for children roughly 120 to 150 cm tall.",
        "A fun printed lining and a glow-in-the-dark zip puller make bedtime easier.",
        "It is machine washable for muddy campsite adventures.",
        "The comfort rating suits summer camps and sleepovers.",
    ],
    "t-shirt": [
        "Flatlock seams prevent chafing under backpack straps.",
        "The fabric wicks moisture and dries quickly.",
        "A relaxed fit works for hiking, travel and everyday wear.",
        "Odour-resistant fibres let you wear it several days on a trek.",
        "UPF {upf} sun protection shields your skin on exposed ridges.",
    ],
    "hiking pants": [
        "Stretch panels at the knee and gusseted crotch allow high steps.",
        "Zipped thigh pockets keep a phone and map secure.",
        "A DWR finish sheds light drizzle and the fabric dries fast.",
        "An integrated belt and adjustable hems make fit easy to tweak.",
        "Reinforced ankles resist abrasion from crampons and rocks.",
    ],
    "shorts": [
        "A built-in stretch waistband keeps them comfortable on long days.",
        "Quick-drying fabric is ready for hot summer hikes and river swims.",
        "A zipped back pocket keeps keys and cards secure.",
        "The {inseam}-inch inseam gives freedom of movement without flapping.",
    ],
    "base layer": [
        "A close, second-skin fit wicks sweat and traps warmth.",
        "It regulates temperature on stop-and-go winter days.",
        "Flat seams sit comfortably under a backpack and harness.",
        "Naturally odour-resistant fibres make it great for multi-day trips.",
        "Wear it under a fleece or softshell for skiing, hiking and winter running.",
    ],
    "socks": [
        "Targeted cushioning under the heel and forefoot reduces blisters.",
        "A seamless toe and arch band keep them from slipping inside boots.",
        "They pair well with hiking boots and trail shoes alike.",
        "Mesh zones on top of the foot help sweat escape.",
        "They are sold as a pair and are machine washable at 40 °C.",
    ],
    "beanie": [
        "A double-layer brim covers the ears on windy ridges.",
        "It is warm, packable and comfortable under a hood.",
        "The soft knit does not itch, even for sensitive skin.",
        "It works as well on the slopes as on a winter city walk.",
    ],
    "headlamp": [
        "A maximum output of {lumens} lumens lights up the trail ahead.",
        "It has a red-light mode to preserve night vision at camp.",
        "It is rated {ip} for rain and splashes.",
        "It runs on {battery}.",
        "A lock mode prevents the lamp switching on inside your pack.",
    ],
    "trekking poles": [
        "They adjust from {len_min} to {len_max} cm to suit climbs and descents.",
        "Flick-lock clamps are easy to adjust even with gloves.",
        "They weigh {weight} g per pair.",
        "Interchangeable trekking and snow baskets come in the box.",
        "Extended foam grips let you choke down on steep traverses.",
    ],
    "water bottle": [
        "It holds {capacity_ml} ml.",
        "The leak-proof lid is safe to throw in a bag.",
        "The wide mouth fits ice cubes and is easy to clean.",
        "It is free of BPA and other harmful plasticisers.",
    ],
    "sunglasses": [
        "Category {lens_cat} lenses block glare in bright mountain light.",
        "They offer 100% UV400 protection.",
        "A wraparound frame and rubber nose pads stay put on the move.",
        "They come with a hard case and a microfibre cleaning pouch.",
    ],
    "gloves": [
        "Touchscreen-compatible fingertips let you use your phone without taking them off.",
        "A pre-curved fit reduces hand fatigue on poles.",
        "A soft wiping patch on the thumb helps on cold, runny-nose days.",
        "Wrist cinches keep snow and wind out.",
    ],
    "camp stove": [
        "It boils a litre of water in about {boil_min} minutes in calm conditions.",
        "It runs on {fuel_text}.",
        "A piezo igniter means no matches needed.",
        "It packs into its own pot or pouch with space for a fuel canister.",
        "Wide pot supports take pans up to 20 cm across.",
    ],
    "dry bag": [
        "A roll-top closure makes it waterproof for kayaking and rainy treks.",
        "Welded seams keep water out, even when it is splashed or briefly dunked.",
        "A D-ring lets you lash it to a boat, bike or backpack.",
        "It holds {volume} litres.",
    ],
}

# Extra sentences for the long-form descriptions (neutral w.r.t. waterproofness).
LONG_EXTRAS = {
    "footwear": [
        "Our footwear team recommends breaking the shoes in with a few short walks before a big trip, so the upper can mould to the shape of your foot.",
        "The removable insole can be swapped for a custom orthotic if you use one, and the lacing leaves enough room to accommodate a thicker footbed.",
        "Clean off mud with lukewarm water and a soft brush after each outing, then let them dry naturally at room temperature away from radiators or campfires.",
        "The outsole compound was chosen to balance grip and durability, so it should last many hundreds of kilometres of mixed terrain before the lugs wear flat.",
        "A padded collar and soft tongue prevent pressure points around the ankle, which is especially noticeable at the end of long days.",
        "The fit is based on a medium-volume last with a roomy toe box, giving your toes space to splay on long descents.",
        "Heel counters are reinforced to keep the foot centred over the sole when carrying a heavier pack.",
        "Many of our customers use this model for everything from weekend walks in the local forest to hut-to-hut trips in the Alps.",
        "If you are unsure about sizing, check our footwear size guide and measure your feet in the afternoon, when they are at their largest.",
    ],
    "jackets": [
        "The cut has been tested with a backpack and climbing harness, so pockets and hem do not interfere with straps and buckles.",
        "Sleeves are articulated at the elbow, which means the cuffs stay put when you reach overhead.",
        "Zips are backed by a storm flap and finished with glove-friendly pullers.",
        "Wash it on a gentle synthetic cycle with a technical detergent, and avoid fabric softener, which can clog the fabric.",
        "The fit leaves room for a light midlayer underneath without feeling baggy over a single base layer.",
        "Reflective details on the back and sleeves improve visibility on dark evenings and early starts.",
        "We recommend storing it loosely on a hanger rather than compressed for long periods.",
        "It is a favourite with customers who want one jacket that covers hiking weekends, travel and the daily commute.",
        "The fabric is bluesign-approved and free of PFAS-based treatments.",
    ],
    "backpacks": [
        "The harness comes in one adjustable size that fits most torsos between roughly 40 and 52 cm.",
        "Load lifter straps pull the weight close to your back so the pack does not sway on uneven ground.",
        "All buckles are made from glass-fibre reinforced plastic that stays flexible in cold weather.",
        "A key clip inside the lid and an internal organiser pocket keep small items from getting lost.",
        "The fabric is coated on the inside for abrasion resistance, and stress points are bar-tacked.",
        "Clean it by hand with mild soap and let it air dry; never put it in a washing machine.",
        "Many customers use it for hut-to-hut treks, long weekends in the mountains and travel alike.",
        "Compression straps on both sides let you cinch down smaller loads so nothing rattles around.",
        "Reflective accents on the front panel make you more visible when walking along roads at dusk.",
    ],
    "tents": [
        "Always pitch the tent at home once before your trip so you know how every pole and clip fits together.",
        "The inner tent has several mesh storage pockets and a loop for hanging a lantern or headlamp.",
        "Guy lines are pre-attached and have reflective tracers so you do not trip over them at night.",
        "Vents at the top of the fly let moist air escape and help keep condensation down.",
        "Let the tent dry completely before storing it to prevent mildew and odours.",
        "The included pegs are fine for firm ground; bring longer ones for sand or snow.",
        "A matching footprint is available separately and protects the groundsheet from sharp stones.",
        "Pole sections are shock-corded so they snap together in seconds.",
        "Zips are oversized and easy to operate even in cold, gloved hands.",
    ],
    "sleeping bags": [
        "Temperature ratings follow the EN ISO 23537 standard, so they are directly comparable across brands.",
        "Pair the bag with an insulated sleeping pad; most heat loss on cold nights goes into the ground.",
        "Use a liner to keep the bag clean and add a few degrees of warmth.",
        "Shake the bag well after unpacking to let the insulation fully loft before you climb in.",
        "A small internal stash pocket keeps your phone and headlamp warm overnight.",
        "Anti-snag zip guards make it easy to open and close in the dark.",
        "Hang it loosely or use the large storage sack at home; long-term compression reduces loft.",
        "The shell fabric feels soft against the skin while resisting abrasion from tent floors.",
        "Regular fits sleepers up to 183 cm and long fits sleepers up to 198 cm.",
    ],
    "clothing": [
        "The fabric is sourced from certified mills that meet strict chemical and welfare standards.",
        "Wash inside out at 30 °C with similar colours and skip the tumble dryer to keep the shape.",
        "The fit is true to size; if you prefer a looser layer, size up.",
        "Seams are placed away from pressure points so they do not rub under a backpack.",
        "It layers well with the rest of our clothing range for changeable mountain weather.",
        "Many customers wear it as much around town as on the trail.",
        "The colours are dyed using a low-water process to reduce environmental impact.",
        "A small hang loop makes it easy to dry on a line at camp.",
        "We test every style on multi-day treks before it makes it into our range.",
    ],
    "accessories": [
        "Every piece of kit in our accessories range is tested in the field by our staff before it joins the range.",
        "Check all parts for wear before each trip and replace damaged components early.",
        "Spare parts are available for most of our accessories through our customer service team.",
        "It makes a popular gift for hikers, campers and anyone who spends time outside.",
        "Store it clean and dry between trips to get the longest possible life out of it.",
        "It pairs well with the other accessories in our range for a complete trail setup.",
        "The design has been refined over several seasons based on customer feedback.",
        "Instructions are included in the box in English, German, French and Dutch.",
        "Lightweight packaging made from recycled cardboard keeps waste to a minimum.",
    ],
}

# Descriptor -> constraints, so the title never contradicts material/attributes.
LEATHER = ["full-grain leather", "nubuck leather"]
MERINO = ["merino wool", "merino-polyester blend"]
DESCRIPTOR_RULES = {
    ("hiking boots", "Waterproof Mid"): {"attrs": {"cut": "mid"}},
    ("hiking boots", "GTX Mid"): {"attrs": {"cut": "mid"}},
    ("hiking boots", "Waterproof Leather"): {"materials": LEATHER},
    ("hiking boots", "Leather Mid"): {"materials": LEATHER, "attrs": {"cut": "mid"}},
    ("hiking boots", "Vent Mid"): {"materials": ["suede and nylon mesh"], "attrs": {"cut": "mid"}},
    ("hiking boots", "Lightweight"): {"materials": ["suede and nylon mesh", "synthetic leather"]},
    ("hiking boots", "Breathable"): {"materials": ["suede and nylon mesh"]},
    ("approach shoes", "Suede"): {"materials": ["suede"]},
    ("down jacket", "Hooded"): {"attrs": {"hood": True}},
    ("fleece jacket", "Hooded"): {"attrs": {"hood": True}},
    ("fleece jacket", "Grid"): {"materials": ["grid fleece polyester"], "attrs": {"hood": False}},
    ("fleece jacket", "Full-Zip"): {"attrs": {"hood": False}},
    ("fleece jacket", "Sherpa"): {"materials": ["polyester", "recycled polyester"], "attrs": {"hood": False}},
    ("fleece jacket", "Micro"): {"materials": ["polyester", "recycled polyester"], "attrs": {"hood": False}},
    ("softshell jacket", "Hooded"): {"attrs": {"hood": True}},
    ("insulated parka", "Waterproof Hooded"): {"attrs": {"hood": True}},
    ("t-shirt", "Merino"): {"materials": MERINO},
    ("t-shirt", "Organic"): {"materials": ["organic cotton"]},
    ("t-shirt", "Tech"): {"materials": ["polyester", "recycled polyester"]},
    ("t-shirt", "Sun"): {"materials": ["polyester", "recycled polyester"]},
    ("t-shirt", "Trail"): {"materials": ["polyester", "recycled polyester", "merino-polyester blend"]},
    ("hiking pants", "Canvas"): {"materials": ["organic cotton canvas"], "attrs": {"convertible": False}},
    ("hiking pants", "Convertible"): {"materials": ["stretch polyamide", "recycled polyester"], "attrs": {"convertible": True}},
    ("hiking pants", "Stretch"): {"materials": ["stretch polyamide", "polyester with elastane"], "attrs": {"convertible": False}},
    ("hiking pants", "Trek"): {"materials": ["stretch polyamide", "recycled polyester"], "attrs": {"convertible": False}},
    ("hiking pants", "Lightweight"): {"materials": ["stretch polyamide", "recycled polyester"], "attrs": {"convertible": False}},
    ("shorts", "Stretch"): {"materials": ["stretch polyamide"]},
    ("shorts", "Running"): {"materials": ["recycled polyester"]},
    ("base layer", "Merino Crew"): {"materials": MERINO},
    ("base layer", "Merino Zip"): {"materials": MERINO},
    ("base layer", "Merino Leggings"): {"materials": MERINO},
    ("base layer", "Thermal Crew"): {"materials": ["polypropylene", "recycled polyester"]},
    ("base layer", "Thermal Leggings"): {"materials": ["polypropylene", "recycled polyester"]},
    ("socks", "Merino Hiking"): {"materials": ["merino wool", "merino-nylon blend"]},
    ("socks", "Trail Running"): {"materials": ["coolmax polyester", "polyester"]},
    ("socks", "Liner"): {"materials": ["coolmax polyester", "merino-nylon blend"]},
    ("beanie", "Merino"): {"materials": ["merino wool"]},
    ("beanie", "Fleece"): {"materials": ["recycled polyester fleece"]},
    ("beanie", "Cable Knit"): {"materials": ["merino wool", "acrylic"]},
    ("beanie", "Ribbed"): {"materials": ["merino wool", "acrylic"]},
    ("trekking poles", "Carbon"): {"materials": ["carbon fibre"]},
    ("trekking poles", "Alu"): {"materials": ["aluminium", "aluminium 7075"]},
    ("trekking poles", "Folding"): {"attrs": {"folding": True}},
    ("trekking poles", "Cork"): {"attrs": {"folding": False}},
    ("water bottle", "Insulated"): {"materials": ["stainless steel"]},
    ("water bottle", "Sport"): {"materials": ["BPA-free Tritan plastic", "aluminium"]},
    ("water bottle", "Trail"): {"materials": ["BPA-free Tritan plastic", "aluminium"]},
    ("sunglasses", "Polarized"): {"attrs": {"polarized": True}},
    ("sunglasses", "Glacier"): {"attrs": {"lens_category": 4}},
    ("gloves", "Waterproof Insulated"): {"materials": ["nylon with synthetic insulation"]},
    ("gloves", "Waterproof"): {"materials": ["goat leather and nylon", "nylon with synthetic insulation"]},
    ("gloves", "Fleece"): {"materials": ["polyester fleece"]},
    ("gloves", "Merino Liner"): {"materials": ["merino wool"]},
    ("gloves", "Via Ferrata"): {"materials": ["goat leather and nylon"]},
    ("camp stove", "Titanium"): {"materials": ["titanium"], "attrs": {"fuel": "gas canister"}},
    ("camp stove", "Canister"): {"attrs": {"fuel": "gas canister"}},
    ("camp stove", "Integrated"): {"attrs": {"fuel": "gas canister"}},
    ("camp stove", "Multi-Fuel"): {"materials": ["stainless steel", "aluminium"], "attrs": {"fuel": "multi-fuel"}},
}

PLURAL_TYPES = {"hiking pants", "shorts", "socks", "trekking poles", "sunglasses", "gloves"}
FUEL_TEXT = {"gas canister": "standard screw-thread gas canisters",
             "multi-fuel": "gas canisters, white gas or kerosene"}

# Category extras that would not fit a particular type.
LONG_EXCLUDE = {
    "kids sleeping bag": ["183 cm"],
    "ultralight tent": ["Pole sections", "every pole"],
    "socks": ["looser layer", "hang loop", "layers well", "backpack"],
    "beanie": ["looser layer", "backpack"],
    "hydration pack": ["lid", "Load lifter", "torsos"],
    "sandals": ["insole", "Heel counters", "padded collar"],
}

# Appended to every long-form description, after the category extras.
GENERAL_EXTRAS = [
    "Before it joined our range, this item was used for a full season by our staff on day hikes, multi-day treks and family camping trips in all kinds of conditions.",
    "Like every product in our shop, it is covered by our 2-year warranty against manufacturing and material defects, and our repair service can help with worn parts later on.",
    "If you have questions about fit, materials or how it compares with similar models, our shopping assistant and customer service team are happy to help you choose.",
    "The brand publishes information about the factories it works with and is steadily increasing the share of recycled and responsibly sourced materials across its collection.",
    "Take a moment to read the care label and the enclosed instructions, because looking after your gear properly is the easiest way to make it last for many years.",
]

GENDER_WORDS = {"men": "men's", "women": "women's", "unisex": "unisex"}
GENDER_FOR = {"men": "for men", "women": "for women", "unisex": "to fit a wide range of bodies"}
SIZE_ORDER = ["XS", "S", "M", "L", "XL", "XXL"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def price_in(rng: random.Random, lo: float, hi: float) -> float:
    whole = rng.randint(int(lo), int(hi))
    cents = rng.choice([0.99, 0.99, 0.99, 0.95, 0.49])
    if whole + cents > hi + 0.99:
        whole -= 1
    return round(whole + cents, 2)


def pick_colors(rng: random.Random, pool: list[str]) -> list[str]:
    n = rng.choice([1, 2, 2, 3, 3, 4])
    chosen = rng.sample(pool, min(n, len(pool)))
    return [c for c in COLORS if c in chosen]  # stable vocabulary order


def contiguous(rng: random.Random, seq: list[str], min_len: int) -> list[str]:
    length = rng.randint(min_len, len(seq))
    start = rng.randint(0, len(seq) - length)
    return seq[start:start + length]


def footwear_sizes(rng: random.Random, gender: str) -> list[str]:
    lo, hi = {"men": (40, 47), "women": (36, 42), "unisex": (37, 46)}[gender]
    sizes = [str(s) for s in range(lo, hi + 1)]
    return contiguous(rng, sizes, min(6, len(sizes)))


def apparel_sizes(rng: random.Random, gender: str) -> list[str]:
    pool = {"men": SIZE_ORDER[1:], "women": SIZE_ORDER[:5], "unisex": SIZE_ORDER}[gender]
    return contiguous(rng, pool, 4)


def an(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def join_words(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------
# product generation
# --------------------------------------------------------------------------
def make_attributes(rng: random.Random, ptype: str, spec: dict, waterproof: bool | None) -> dict:
    cat = spec["category"]
    w_lo, w_hi = spec["weight"]
    weight = rng.randint(w_lo, w_hi)
    weight = int(round(weight, -1)) if weight >= 200 else weight
    attrs: dict = {}
    if cat == "footwear":
        gender = rng.choice(["men", "women", "unisex", "men", "women"])
        attrs = {"waterproof": bool(waterproof), "weight_g": weight, "gender": gender}
        if ptype == "hiking boots":
            attrs["cut"] = rng.choice(["mid", "mid", "high", "low"])
        if ptype in ("running shoes", "trail running shoes"):
            attrs["drop_mm"] = rng.choice([4, 6, 8, 10, 12])
    elif cat == "jackets":
        gender = rng.choice(["men", "women", "unisex"])
        attrs = {"waterproof": bool(waterproof), "weight_g": weight, "gender": gender,
                 "hood": ptype != "fleece jacket" or rng.random() < 0.3}
        if waterproof:
            attrs["hydrostatic_head_mm"] = rng.choice([10000, 15000, 20000, 28000])
        if ptype in ("down jacket", "insulated parka") and "down" in spec.get("_material", ""):
            attrs["fill_power"] = int(spec["_material"].split()[1])
        attrs["fit"] = rng.choice(["regular", "slim", "relaxed"])
    elif cat == "backpacks":
        attrs = {"volume_l": spec["_volume"], "weight_g": weight,
                 "gender": rng.choice(["unisex", "unisex", "women", "men"]),
                 "hydration_compatible": ptype in ("hydration pack", "hiking backpack") or rng.random() < 0.5,
                 "rain_cover": ptype == "hiking backpack" or (ptype == "daypack" and rng.random() < 0.3)}
        if ptype == "travel backpack":
            attrs["laptop_sleeve"] = True
        if ptype == "hydration pack":
            attrs["reservoir_l"] = 1.5
    elif cat == "tents":
        cap = {"backpacking tent": rng.choice([1, 2, 2, 3]),
               "family tent": rng.choice([4, 5, 6, 6, 8]),
               "ultralight tent": rng.choice([1, 1, 2])}[ptype]
        season = "4-season" if (ptype == "backpacking tent" and rng.random() < 0.25) else "3-season"
        if ptype == "family tent":
            weight = int(round(weight * cap / 6, -1))
        attrs = {"capacity": cap, "season": season, "weight_g": weight, "waterproof": True,
                 "hydrostatic_head_mm": rng.choice([1500, 2000, 3000, 4000, 5000]),
                 "doors": 1 if ptype == "ultralight tent" else (2 if cap > 1 else 1),
                 "freestanding": ptype != "ultralight tent"}
        if ptype == "family tent":
            attrs["doors"] = 2
            attrs["standing_height_cm"] = rng.choice([190, 195, 200, 210])
    elif cat == "sleeping bags":
        comfort = {"down sleeping bag": rng.choice([-10, -7, -5, -2, 0, 2, 5]),
                   "synthetic sleeping bag": rng.choice([-5, -2, 0, 3, 5, 8, 10]),
                   "kids sleeping bag": rng.choice([5, 8, 10])}[ptype]
        fill = "down" if ptype == "down sleeping bag" else "synthetic"
        attrs = {"comfort_temp_c": comfort, "limit_temp_c": comfort - rng.choice([4, 5, 6]),
                 "fill": fill, "weight_g": weight,
                 "shape": "rectangular" if ptype == "kids sleeping bag" else rng.choice(["mummy", "mummy", "semi-rectangular"])}
        if fill == "down":
            attrs["fill_power"] = int(spec["_material"].split()[1])
    elif cat == "clothing":
        gender = rng.choice(["men", "women", "unisex"])
        attrs = {"gender": gender, "weight_g": weight,
                 "quick_dry": "cotton" not in spec["_material"] and "merino" not in spec["_material"]}
        if ptype == "t-shirt":
            attrs["upf"] = rng.choice([30, 40, 50])
        if ptype == "shorts":
            attrs["inseam_in"] = rng.choice([5, 7, 9])
        if "merino" in spec["_material"]:
            attrs["merino"] = True
    elif cat == "accessories":
        attrs = {"weight_g": weight}
        if ptype == "headlamp":
            attrs.update(lumens=rng.choice([200, 300, 400, 500, 750, 1000]),
                         ip_rating=rng.choice(["IPX4", "IPX4", "IPX7"]),
                         battery=rng.choice(["rechargeable USB-C", "3x AAA", "rechargeable USB-C"]))
        elif ptype == "trekking poles":
            lo = rng.choice([100, 105, 110])
            attrs.update(length_min_cm=lo, length_max_cm=lo + rng.choice([20, 25, 30]), folding=rng.random() < 0.5)
        elif ptype == "water bottle":
            attrs.update(capacity_ml=rng.choice([500, 600, 750, 1000]),
                         insulated="steel" in spec["_material"])
        elif ptype == "sunglasses":
            attrs.update(lens_category=rng.choice([3, 3, 4]), polarized=rng.random() < 0.6, uv400=True)
        elif ptype == "gloves":
            attrs.update(waterproof=bool(waterproof), gender=rng.choice(["men", "women", "unisex"]),
                         touchscreen=True)
        elif ptype == "camp stove":
            attrs.update(fuel=rng.choice(["gas canister", "gas canister", "multi-fuel"]),
                         output_w=rng.choice([1800, 2600, 3000, 3500]),
                         boil_time_min=rng.choice([3, 3.5, 4, 4.5]))
        elif ptype == "dry bag":
            attrs.update(volume_l=rng.choice([5, 10, 20, 35]), waterproof=True)
    return attrs


def make_sizes(rng: random.Random, ptype: str, cat: str, attrs: dict) -> list[str]:
    if cat == "footwear":
        return footwear_sizes(rng, attrs["gender"])
    if cat == "jackets":
        return apparel_sizes(rng, attrs["gender"])
    if cat == "clothing":
        if ptype == "beanie":
            return ["one size"]
        if ptype == "socks":
            return contiguous(rng, ["S", "M", "L", "XL"], 3)
        return apparel_sizes(rng, attrs["gender"])
    if cat == "backpacks":
        return ["one size"] if ptype == "hydration pack" else [f"{attrs['volume_l']}L"]
    if cat == "tents":
        return [f"{attrs['capacity']}-person"]
    if cat == "sleeping bags":
        return ["regular"] if ptype == "kids sleeping bag" else (["regular", "long"] if rng.random() < 0.7 else ["regular"])
    if ptype == "gloves":
        return contiguous(rng, ["S", "M", "L", "XL"], 3)
    return ["one size"]


def describe(rng: random.Random, p: dict, spec: dict, long: bool) -> str:
    ptype, cat, attrs = p["type"], p["category"], p["attributes"]
    gender = attrs.get("gender", "unisex")
    ctx = dict(
        name=p["title"], brand=p["brand"], model=p["_model"], material=p["material"],
        noun_l=spec["noun"].lower() if ptype not in ("t-shirt",) else "t-shirt",
        gender_word=GENDER_WORDS[gender], gender_for=GENDER_FOR[gender],
        weight=attrs.get("weight_g"), volume=attrs.get("volume_l"), capacity=attrs.get("capacity"),
        season=attrs.get("season"), comfort=attrs.get("comfort_temp_c"), limit=attrs.get("limit_temp_c"),
        shape=attrs.get("shape"), hh=f"{attrs.get('hydrostatic_head_mm', 0):,}",
        fill_power=attrs.get("fill_power", 700), drop=attrs.get("drop_mm"),
        cut=attrs.get("cut", "mid"),
        cut_support={"low": "light", "mid": "solid", "high": "maximum"}.get(attrs.get("cut", "mid")),
        doors_text="Two doors with vestibules give" if attrs.get("doors") == 2 else "A single door and vestibule give", height=attrs.get("standing_height_cm"), upf=attrs.get("upf"),
        inseam=attrs.get("inseam_in"), lumens=attrs.get("lumens"), ip=attrs.get("ip_rating"),
        battery=(f"a {attrs.get('battery')} battery" if attrs.get("battery", "").startswith("recharge")
                 else f"{attrs.get('battery')} batteries"),
        len_min=attrs.get("length_min_cm"), len_max=attrs.get("length_max_cm"),
        capacity_ml=attrs.get("capacity_ml"), lens_cat=attrs.get("lens_category"),
        boil_min=attrs.get("boil_time_min"), fuel_text=FUEL_TEXT.get(attrs.get("fuel")),
        a_material=an(p["material"]), is_are="are" if ptype in PLURAL_TYPES else "is",
    )
    sentences = [rng.choice(INTROS[cat])]

    # waterproofness sentence (keeps title/attributes/description consistent)
    wp = attrs.get("waterproof")
    if cat == "footwear":
        sentences.append(rng.choice(WATERPROOF_YES["footwear"] if wp else WATERPROOF_NO["footwear"]))
    elif cat == "jackets":
        if wp:
            sentences.append(rng.choice(WATERPROOF_YES["jackets"]))
        else:
            sentences.append(rng.choice(WATERPROOF_NO[ptype]))
    elif ptype == "gloves":
        sentences.append(rng.choice(WATERPROOF_YES["gloves"] if wp else WATERPROOF_NO["gloves"]))

    features = list(TYPE_FEATURES[ptype])
    rng.shuffle(features)
    if ptype == "shorts" and not attrs.get("inseam_in"):
        features = [f for f in features if "{inseam}" not in f]
    if long:
        sentences += features
        skip = LONG_EXCLUDE.get(ptype, [])
        extras = [e for e in LONG_EXTRAS[cat] if not any(x in e for x in skip)]
        rng.shuffle(extras)
        sentences += extras + GENERAL_EXTRAS
        sentences.append(f"It is available in {join_words(p['colors'])}.")
    else:
        n_total = rng.randint(3, 5)
        sentences += features[: max(1, n_total - len(sentences))]
    text = " ".join(s.format(**ctx) for s in sentences)
    return text[0].upper() + text[1:]


def build_products(rng: random.Random) -> list[dict]:
    products: list[dict] = []
    titles: set[str] = set()
    for t_idx, (ptype, spec) in enumerate(TYPES.items()):
        cat = spec["category"]
        brands = BRANDS[cat]
        models = list(MODEL_NAMES)
        rng.shuffle(models)
        volumes = list(spec.get("volumes", []))
        rng.shuffle(volumes)
        for i in range(spec["count"]):
            brand = brands[(i + t_idx) % len(brands)]
            # ---- waterproofness + price plan ----
            waterproof = None
            lo, hi = spec["price"]
            if ptype == "hiking boots":
                # 12 waterproof (8 at <= 150 EUR, 4 above) + 4 non-waterproof
                if i < 8:
                    waterproof, lo, hi = True, 89, 149
                elif i < 12:
                    waterproof, lo, hi = True, 159, 249
                else:
                    waterproof, lo, hi = False, 79, 159
            elif ptype == "trail running shoes":
                waterproof = i == 0
            elif cat == "footwear":
                waterproof = False
            elif ptype == "rain jacket":
                waterproof = True
            elif ptype == "insulated parka":
                waterproof = i < 2
            elif cat == "jackets":
                waterproof = False
            elif ptype == "gloves":
                waterproof = i < 2
            price = price_in(rng, lo, hi)
            desc_pool = DESCRIPTORS[ptype]["wp" if waterproof else "dry"]
            descriptor = desc_pool[i % len(desc_pool)] if len(desc_pool) > 1 else desc_pool[0]
            rule = DESCRIPTOR_RULES.get((ptype, descriptor), {})
            material = rng.choice(rule.get("materials", spec["materials"]))
            spec["_material"] = material
            if volumes:
                spec["_volume"] = volumes[i % len(volumes)]
            attrs = make_attributes(rng, ptype, spec, waterproof)
            attrs.update(rule.get("attrs", {}))

            # ---- title ----
            while True:
                model = models.pop()
                parts = [brand, model]
                if ptype in ("daypack", "hiking backpack", "travel backpack", "hydration pack", "dry bag"):
                    parts.append(str(attrs["volume_l"]))
                if ptype in ("down sleeping bag", "synthetic sleeping bag", "kids sleeping bag"):
                    parts.append(f"{attrs['comfort_temp_c']}°C" if attrs["comfort_temp_c"] <= 0 else f"+{attrs['comfort_temp_c']}°C")
                if ptype in ("backpacking tent", "ultralight tent", "family tent"):
                    parts.append(f"{attrs['capacity']}P")
                g = attrs.get("gender")
                if g in ("men", "women") and cat in ("footwear", "jackets", "clothing"):
                    parts.append("Men's" if g == "men" else "Women's")
                if descriptor:
                    parts.append(descriptor)
                parts.append(spec["noun"])
                title = " ".join(parts)
                if title not in titles:
                    titles.add(title)
                    break
            sku_num = 1001 + i
            p = {
                "id": f"SG-{spec['code']}-{sku_num}",
                "title": title,
                "brand": brand,
                "category": cat,
                "type": ptype,
                "price": price,
                "currency": "EUR",
                "colors": pick_colors(rng, spec["colors"]),
                "sizes": [],
                "material": material,
                "stock": 0,
                "rating": 0.0,
                "description": "",
                "attributes": attrs,
                "_model": model,
            }
            p["sizes"] = make_sizes(rng, ptype, cat, attrs)
            p["rating"] = round(min(5.0, max(2.8, rng.triangular(2.8, 5.0, 4.5))), 1)
            p["stock"] = rng.choice([rng.randint(1, 12), rng.randint(5, 60), rng.randint(20, 240)])
            products.append(p)

    # ~10% out of stock
    for p in rng.sample(products, round(len(products) * 0.1)):
        p["stock"] = 0

    # ~15 long descriptions, spread across categories
    long_ids = set()
    by_cat: dict[str, list[dict]] = {}
    for p in products:
        by_cat.setdefault(p["category"], []).append(p)
    for cat, items in by_cat.items():
        for p in rng.sample(items, 2 if cat not in ("footwear",) else 3):
            long_ids.add(p["id"])
    for p in products:
        p["description"] = describe(rng, p, TYPES[p["type"]], p["id"] in long_ids)
        del p["_model"]
    return products


# --------------------------------------------------------------------------
# FAQs (hand-written store policies; kept mutually consistent)
# --------------------------------------------------------------------------
FAQS = [
    # shipping
    ("shipping-times", "shipping", "How long does delivery take?",
     "Orders placed on a business day before 14:00 CET are dispatched the same day. Standard delivery takes 2-4 business days within Germany, Austria and the Benelux, and 3-6 business days to the rest of the EU."),
    ("shipping-costs", "shipping", "How much does shipping cost?",
     "Standard shipping is free on orders of €50 or more within the EU; below that it costs €4.95. Express delivery (1-2 business days) costs €9.95 regardless of order value."),
    ("shipping-countries", "shipping", "Which countries do you ship to?",
     "We ship to all EU countries plus Switzerland, Norway and the United Kingdom. Deliveries outside the EU cost €14.95 and may be subject to import duties and taxes, which are paid by the recipient."),
    ("shipping-express", "shipping", "Can I get my order faster?",
     "Yes, choose Express delivery at checkout for €9.95. Express orders placed before 14:00 CET on a business day arrive within 1-2 business days in most EU countries."),
    ("shipping-packstation", "shipping", "Can you deliver to a parcel locker or pickup point?",
     "Yes, you can choose a parcel locker or pickup point at checkout for standard delivery in Germany, Austria, the Netherlands and Belgium. Express delivery is only available to street addresses."),
    # returns
    ("returns-policy", "returns", "What is your return policy?",
     "You can return unworn, unused items with their original tags within 30 days of delivery for a full refund. Return shipping is free within the EU."),
    ("returns-how-to", "returns", "How do I send something back?",
     "Log in to your account or use the returns page with your order number and email to print a free prepaid return label. Pack the items securely and drop the parcel at any partner shipping point."),
    ("returns-refund-time", "returns", "When will I get my refund?",
     "We refund to your original payment method within 5 business days after your return arrives at our warehouse. Your bank may need a further 2-3 business days to show the money."),
    ("returns-exchange", "returns", "Can I exchange an item for a different size or colour?",
     "Yes, exchanges for a different size or colour of the same product are free within 30 days of delivery. Choose \"exchange\" on the returns page and we ship the replacement as soon as your return is scanned by the carrier."),
    ("returns-used-gear", "returns", "Can I return shoes I have already worn outside?",
     "Footwear and gear that has been used outdoors cannot be returned for a refund, so please try shoes on indoors on a clean surface first. If a used item is faulty, it is covered by our 2-year warranty instead."),
    # payments
    ("payment-methods", "payments", "Which payment methods do you accept?",
     "We accept Visa, Mastercard, American Express, PayPal, Apple Pay, Google Pay and Klarna (pay in 30 days). All prices are shown in euros (EUR) and include VAT."),
    ("payment-when-charged", "payments", "When is my card charged?",
     "Your card is authorised when you place the order and charged only when the order is dispatched. If an item is cancelled before dispatch, the authorisation is released within 5 business days."),
    ("payment-invoice", "payments", "Can I pay by invoice?",
     "Yes, you can pay later through Klarna, with 30 days to pay after dispatch at no extra cost. Klarna carries out a credit check at checkout."),
    ("payment-gift-cards", "payments", "Do you sell gift cards?",
     "Yes, digital gift cards are available from €10 to €500 and are valid for 3 years from purchase. They can be combined with any other payment method at checkout."),
    ("payment-discounts", "payments", "Do you have sales or discount codes?",
     "The prices in the shop and in this chat are today's prices. Seasonal sales are announced in our newsletter and on the home page. One discount code can be used per order, entered at checkout; codes can't be combined or used on gift cards."),
    ("payment-failed", "payments", "Why was my payment declined?",
     "Payments are usually declined because of an incorrect card number, expired card, insufficient funds or a failed 3-D Secure check. Try again or choose another payment method; we never store your full card details."),
    # warranty
    ("warranty-coverage", "warranty", "What does your warranty cover?",
     "All products come with a 2-year warranty from the date of delivery covering manufacturing and material defects. Normal wear and tear, accidental damage and improper use or care are not covered."),
    ("warranty-claim", "warranty", "How do I make a warranty claim?",
     "Fill in the warranty form in your account with your order number, a description of the fault and photos. We reply within 3 business days and, if the claim is approved, repair, replace or refund the item at no cost to you."),
    ("warranty-repairs", "warranty", "Do you repair gear?",
     "Yes, our repair service fixes zips, seams, buckles and tent poles, also outside the warranty period. Repairs outside warranty are quoted before we start work, and return shipping to us is free within the EU."),
    ("warranty-waterproof", "warranty", "My waterproof jacket is leaking. Is that covered?",
     "Delamination or failed seam tape within 2 years of delivery is a manufacturing defect and is covered by our warranty. Wetting-out of the outer fabric is normal wear; washing and re-proofing the jacket usually restores its performance."),
    # sizing
    ("size-guide-footwear", "sizing", "How do I find my shoe size?",
     "All footwear is listed in EU sizes. Measure your foot length in the afternoon and compare it with the size chart on the product page; for hiking boots we recommend going up one size if you are between sizes or wear thick socks."),
    ("size-guide-clothing", "sizing", "How do your clothing sizes fit?",
     "Clothing and jackets use sizes XS to XXL and generally fit true to size. Compare your chest, waist and hip measurements with the size chart on each product page; size up if you want room for extra layers."),
    ("size-guide-sleeping-bags", "sizing", "Should I get a regular or long sleeping bag?",
     "Regular sleeping bags fit people up to 183 cm tall and long versions fit people up to 198 cm. Our kids sleeping bags are made for children roughly 120 to 150 cm tall."),
    ("size-guide-backpacks", "sizing", "Which backpack size do I need?",
     "As a rule of thumb, 15-30 litres suits day hikes, 35-50 litres suits 2-4 day hut trips and 55 litres or more suits multi-day treks with a tent. Backpack sizes in the shop refer to volume in litres."),
    # orders
    ("order-tracking", "orders", "Where is my order, and how can I track it?",
     "As soon as your order is dispatched you receive an email with a tracking link. You can also follow the status under \"My orders\" in your account."),
    ("cancel-order", "orders", "Can I cancel my order?",
     "You can cancel an order free of charge under \"My orders\" as long as it has not been dispatched yet. Once dispatched it can no longer be cancelled, but you can return it within 30 days of delivery."),
    ("order-change-address", "orders", "Can I change the delivery address after ordering?",
     "You can change the delivery address by contacting customer service before the order is dispatched. After dispatch, the address can only be changed through the carrier's tracking page, where available."),
    ("order-out-of-stock", "orders", "What if an item is out of stock?",
     "Items that are out of stock cannot be ordered, but you can sign up for a back-in-stock email on the product page. Most items are restocked within 2-4 weeks."),
    ("order-missing-item", "orders", "An item is missing from my parcel. What should I do?",
     "Some orders ship in more than one parcel, so please check your dispatch emails first. If an item is still missing, contact customer service within 14 days of delivery and we will send it again or refund it."),
    # account
    ("create-account", "account", "Do I need an account to order?",
     "No, you can check out as a guest. With a free account you can track orders, start returns and warranty claims, and save addresses."),
    ("reset-password", "account", "I forgot my password. How do I reset it?",
     "Click \"Forgot password\" on the login page and we email you a reset link that is valid for 24 hours. If the email does not arrive within 10 minutes, check your spam folder."),
    ("delete-account", "account", "How do I delete my account?",
     "You can delete your account under \"Account settings\" or by emailing privacy@shopguide.example, and we complete the deletion within 30 days. Invoices are kept for 10 years because tax law requires it, but they are no longer linked to an active account."),
    ("newsletter-unsubscribe", "account", "How do I unsubscribe from the newsletter?",
     "Click the unsubscribe link at the bottom of any newsletter or untick the newsletter box in your account settings. The change takes effect immediately."),
    # privacy
    ("privacy-data", "privacy", "What personal data do you collect?",
     "We collect the data needed to process your order: name, addresses, email, phone number and order history. Payment details are handled by our payment providers and we never store full card numbers."),
    ("privacy-sharing", "privacy", "Do you sell my data?",
     "No, we never sell your personal data. We share only what is necessary with carriers, payment providers and IT service providers, all under GDPR-compliant data processing agreements."),
    ("privacy-cookies", "privacy", "How do you use cookies?",
     "Essential cookies are needed for the basket and checkout. Analytics and marketing cookies are only set with your consent, which you can change at any time via the cookie settings link in the footer."),
    ("privacy-rights", "privacy", "How can I see or correct the data you hold about me?",
     "Under the GDPR you can request access to, correction of, or deletion of your data by emailing privacy@shopguide.example. We respond within 30 days."),
    ("privacy-chat", "privacy", "Do you store my conversations with the shopping assistant?",
     "Chat conversations are stored for 90 days to improve answers and handle support requests, then deleted automatically. Please do not share payment card details in the chat."),
]


# --------------------------------------------------------------------------
# Documents (reviews, community Q&A, spec lines)
# --------------------------------------------------------------------------
REVIEW_NAMES = ["Anna", "Lukas", "Sofia", "Jonas", "Marie", "Tom", "Elena", "Pieter", "Lea", "Marco",
                "Ines", "Finn", "Clara", "Mateo", "Hanna", "Niels", "Julia", "Oscar", "Eva", "Bram"]

TRIPS = ["the Tour du Mont Blanc", "a week in the Dolomites", "the West Highland Way", "a Harz weekend",
         "a hut trip in Tyrol", "the GR20 in Corsica", "day hikes in the Eifel", "a trip to Norway",
         "the Camino", "a trek in the Pyrenees", "weekends in the Black Forest", "a summer trek in Lapland"]


def review_texts(rng: random.Random, p: dict) -> list[str]:
    """Return candidate review sentences that are consistent with the product."""
    a, t, cat = p["attributes"], p["type"], p["category"]
    color = rng.choice(p["colors"])
    trip = rng.choice(TRIPS)
    out = []
    if cat == "footwear":
        if t == "sandals":
            out.append(f"Perfect for river crossings on {trip}, they dry in no time. The {color} straps still look new.")
        elif a["waterproof"]:
            out.append(f"Wore them on {trip} with plenty of rain and bog and my feet stayed completely dry. The {color} colour hides mud well.")
            out.append("Really comfortable out of the box and properly waterproof. They run slightly warm in high summer though.")
        else:
            out.append(f"Super breathable for summer hiking on {trip}. They are not waterproof, so my socks got wet in a stream crossing, but they dried quickly.")
            out.append(f"Light and comfortable, I love the {color} colourway. Don't buy them for wet conditions, they let water in.")
        out.append(f"Took them on {trip}. Great grip on rock and no blisters after 20 km days.")
        out.append("The toe box is a bit narrow for my wide feet; had to return and size up. Otherwise solid quality.")
    elif cat == "jackets":
        if a["waterproof"]:
            out.append(f"Stood in a proper downpour on {trip} and stayed dry underneath. The hood fits over a cap nicely.")
        else:
            out.append(f"Lovely and warm for the weight. Not waterproof, so I carry a shell on top when it rains.")
        out.append(f"Fit is true to size for me, I'm 180 cm and wear an M. The {color} looks even better in person.")
        out.append(f"Used it all through {trip}. Packs small and the zips feel sturdy.")
    elif cat == "backpacks":
        out.append(f"Carried it on {trip} and it sat comfortably on my hips all day. {a['volume_l']} litres was just right.")
        out.append(f"Plenty of pockets and the {color} fabric still looks new after a season.")
        out.append("Back panel ventilation is decent but my back still got sweaty on hot days.")
    elif cat == "tents":
        out.append(f"Pitched it in about 10 minutes on the first try during {trip}. Survived a windy night without issues.")
        out.append(f"Roomy for {a['capacity']} {'person' if a['capacity'] == 1 else 'people'}, and no leaks in heavy rain.")
        out.append("Some condensation on cold mornings, but that's normal. Good value for the weight.")
    elif cat == "sleeping bags":
        out.append(f"Slept warm at around {a['comfort_temp_c'] + 1} °C on {trip} with a good mat underneath.")
        out.append("The hood and draught collar work well. The zip snags occasionally at the corner.")
        if a["fill"] == "down":
            out.append("Packs tiny for such a warm bag. Make sure you let it loft before bedtime.")
        else:
            out.append("Bulkier than a down bag, but I don't worry about it getting damp in the tent.")
    elif cat == "clothing":
        if a.get("merino"):
            out.append(f"Wore it for five days straight on {trip} and it still didn't smell. Merino is magic.")
        else:
            out.append(f"Dries incredibly fast after washing it in a hut sink on {trip}.")
        out.append(f"Comfortable fit and the {color} colour hasn't faded after many washes.")
        if p["sizes"] != ["one size"]:
            out.append(f"True to size; I normally wear {rng.choice(p['sizes'])} and that's what I ordered.")
    else:  # accessories
        if t == "headlamp":
            out.append(f"{a['lumens']} lumens is plenty for night hikes and the red mode is great in the tent.")
        elif t == "trekking poles":
            out.append(f"My knees thank me on descents. The locks hold firm and they weigh next to nothing.")
        elif t == "water bottle":
            out.append(f"No leaks in my bag so far. {a['capacity_ml']} ml is a good size for day hikes.")
        elif t == "sunglasses":
            out.append(f"Great for bright glacier days, the category {a['lens_category']} lenses really cut glare.")
        elif t == "gloves":
            out.append("Kept my hands dry in wet snow." if a["waterproof"]
                       else "Nice and warm on dry, cold days, but they soak through in wet snow.")
        elif t == "camp stove":
            out.append(f"Boils water fast and simmers well. Used it for every meal on {trip}.")
        elif t == "dry bag":
            out.append("Strapped it to my kayak for a week-long canoe trip; everything inside stayed bone dry.")
        out.append(f"Solid build quality and the {color} colour makes it easy to find in my pack.")
    return out


def qa_texts(rng: random.Random, p: dict) -> list[str]:
    a, t, cat = p["attributes"], p["type"], p["category"]
    out = []
    if cat == "footwear":
        out.append("Q: Is it waterproof? A: " + ("Yes, it has a waterproof membrane; I've walked through ankle-deep puddles with dry feet."
                                                 if a["waterproof"] else "No, it has no waterproof membrane. It's breathable and dries fast, but water gets in."))
        out.append(rng.choice([
            "Q: Is it true to size? A: Runs a little small, I went up one size.",
            "Q: Is it true to size? A: True to size for me, with normal hiking socks.",
            "Q: Does it fit wide feet? A: It's a medium width; with wide feet I'd size up one.",
        ]))
        out.append(f"Q: Which sizes are available? A: EU {p['sizes'][0]} to {p['sizes'][-1]}.")
    elif cat == "jackets":
        out.append("Q: Is it waterproof? A: " + (f"Yes, fully waterproof with taped seams ({a['hydrostatic_head_mm']:,} mm)."
                                                 if a["waterproof"] else "No, it's water-resistant at most. Wear a rain shell over it in real rain."))
        out.append("Q: Does it have a hood? A: " + ("Yes, it has an adjustable hood." if a["hood"] else "No, this version has a stand-up collar without a hood."))
        out.append("Q: Can I fit a fleece underneath? A: Yes, a light fleece fits under it in my usual size.")
    elif cat == "backpacks":
        out.append("Q: Is it compatible with a hydration bladder? A: " + ("Yes, there's an internal sleeve and a hose port."
                                                                       if a["hydration_compatible"] else "No, there's no hydration sleeve; use the side pockets for bottles."))
        out.append("Q: Does it come with a rain cover? A: " + ("Yes, it's stored in a zipped pocket at the base."
                                                             if a["rain_cover"] else "No, a rain cover has to be bought separately."))
    elif cat == "tents":
        out.append(f"Q: Can two people sit up inside? A: " + ("Yes, easily." if a["capacity"] >= 2 else "It's a solo tent; one person can sit up comfortably."))
        out.append("Q: Is it freestanding? A: " + ("Yes, it stands on its own poles, though you should still peg it out."
                                                   if a["freestanding"] else "No, it needs pegs and trekking poles to pitch."))
        out.append(f"Q: Is it suitable for winter? A: " + ("Yes, it's a 4-season tent." if a["season"] == "4-season"
                                                           else "It's a 3-season tent, so it's best from spring to autumn."))
    elif cat == "sleeping bags":
        out.append(f"Q: Will it keep me warm at 0 °C? A: " + ("Yes, its comfort rating is " + f"{a['comfort_temp_c']} °C."
                                                              if a["comfort_temp_c"] <= 0 else f"Not really, the comfort rating is {a['comfort_temp_c']} °C; choose a warmer bag for freezing nights."))
        out.append("Q: Is there a long version? A: " + ("Yes, it comes in regular and long." if "long" in p["sizes"] else "No, it only comes in regular."))
    elif cat == "clothing":
        if p["sizes"] != ["one size"]:
            out.append(f"Q: Which sizes does it come in? A: {', '.join(p['sizes'])}.")
        out.append(rng.choice([
            "Q: Does it shrink in the wash? A: Not if you wash at 30 °C and skip the dryer.",
            "Q: Is it itchy? A: Not at all, it's very soft against the skin.",
            "Q: Is it true to size? A: Yes, I'm usually an M and the M fits well.",
        ]))
    else:
        if t == "headlamp":
            out.append(f"Q: How is it powered? A: It uses {a['battery']}" + (" and charges fully in about 3 hours." if "USB" in a["battery"] else "."))
        elif t == "trekking poles":
            out.append(f"Q: How long do they extend? A: From {a['length_min_cm']} to {a['length_max_cm']} cm.")
        elif t == "water bottle":
            out.append("Q: Does it keep drinks cold? A: " + ("Yes, it's double-wall insulated and keeps drinks cold for about 24 hours."
                                                             if a["insulated"] else "No, it's not insulated."))
        elif t == "sunglasses":
            out.append("Q: Are the lenses polarized? A: " + ("Yes." if a["polarized"] else "No, but they do block 100% UV."))
        elif t == "gloves":
            out.append("Q: Are they waterproof? A: " + ("Yes, they have a waterproof insert." if a["waterproof"] else "No, they're not waterproof."))
        elif t == "camp stove":
            out.append(f"Q: Which fuel does it use? A: It runs on {FUEL_TEXT[a['fuel']]}.")
        elif t == "dry bag":
            out.append("Q: Can it go underwater? A: It's waterproof against splashes and brief dunks, but it's not made for long submersion.")
        out.append("Q: Is it covered by warranty? A: Yes, like everything in the shop it has a 2-year warranty.")
    return out


SPEC_LABELS = {
    "weight_g": ("weight", " g"), "volume_l": ("volume", " L"), "comfort_temp_c": ("comfort temperature", " °C"),
    "limit_temp_c": ("limit temperature", " °C"), "hydrostatic_head_mm": ("hydrostatic head", " mm"),
    "drop_mm": ("drop", " mm"), "reservoir_l": ("reservoir", " L"), "standing_height_cm": ("standing height", " cm"),
    "length_min_cm": ("min length", " cm"), "length_max_cm": ("max length", " cm"), "capacity_ml": ("capacity", " ml"),
    "output_w": ("output", " W"), "boil_time_min": ("boil time (1 L)", " min"), "inseam_in": ("inseam", " in"),
    "capacity": ("capacity", " person(s)"),
}


def spec_text(p: dict) -> str:
    a = p["attributes"]
    parts = [f"Material: {p['material']}"]
    for key, val in a.items():
        label, unit = SPEC_LABELS.get(key, (key.replace("_", " "), ""))
        if isinstance(val, bool):
            val, unit = ("yes" if val else "no"), ""
        parts.append(f"{label}: {val}{unit}")
    parts.append(f"Colours: {', '.join(p['colors'])}")
    parts.append(f"Sizes: {', '.join(p['sizes'])}")
    return f"{p['title']} - " + "; ".join(parts) + "."


def build_documents(rng: random.Random, products: list[dict]) -> list[dict]:
    docs = []
    # popular = highest rated products; they get several docs each
    ranked = sorted(products, key=lambda p: (-p["rating"], p["id"]))
    popular = ranked[:30]
    others = [p for p in products if p not in popular]
    covered = popular + rng.sample(others, 80)
    covered.sort(key=lambda p: p["id"])
    popular_ids = {p["id"] for p in popular}

    def add(pid: str, source: str, text: str) -> None:
        docs.append({"id": "", "product_id": pid, "source": source, "text": text})

    for p in covered:
        reviews = review_texts(rng, p)
        qas = qa_texts(rng, p)
        rng.shuffle(reviews)
        if p["id"] in popular_ids:
            add(p["id"], "spec", spec_text(p))
            for r in reviews[:2]:
                add(p["id"], "review", r)
            for q in qas[:2]:
                add(p["id"], "qa", q)
        else:
            kind = rng.choice(["review", "qa", "spec", "review"])
            if kind == "review":
                add(p["id"], "review", reviews[0])
            elif kind == "qa":
                add(p["id"], "qa", qas[0])
            else:
                add(p["id"], "spec", spec_text(p))
            if rng.random() < 0.4:
                add(p["id"], "review", reviews[-1])
    for n, d in enumerate(docs, start=1):
        d["id"] = f"DOC-{n:04d}"
    return docs


# --------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def translations(ids: set[str]) -> list[dict]:
    """The hand-written translations already in faqs.jsonl ("<id>-<lang>"), kept for the entries still written."""
    path = OUT_DIR / "faqs.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("lang", "en") != "en" and r["id"].removesuffix(f"-{r['lang']}") in ids]


def main() -> None:
    rng = random.Random(SEED)
    products = build_products(rng)
    faqs = [{"id": i, "topic": t, "lang": "en", "question": q, "answer": a} for i, t, q, a in FAQS]
    faqs += translations({f["id"] for f in faqs})
    documents = build_documents(rng, products)
    write_jsonl(OUT_DIR / "products.jsonl", products)
    write_jsonl(OUT_DIR / "faqs.jsonl", faqs)
    write_jsonl(OUT_DIR / "documents.jsonl", documents)
    print(f"wrote {len(products)} products, {len(faqs)} faqs, {len(documents)} documents to {OUT_DIR}")


if __name__ == "__main__":
    main()
