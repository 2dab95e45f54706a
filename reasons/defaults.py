"""The default reasons (SPEC §7, API.md): stable codes, groups from [002].

Columns: code, name, Chinese name, group, quality issue, responsible,
refund only, return and refund, exchange, fresh, general, photos required.
"""

from aftersales.vocabulary import TicketType

R, RR, EX = TicketType.REFUND_ONLY, TicketType.RETURN_REFUND, TicketType.EXCHANGE

DEFAULT_REASONS = [
    # product
    ("quality_issue", "Quality problem", "质量问题", "product", True, "shop", {R, RR, EX}, True, True, True),
    ("damaged_in_transit", "Damaged in transit", "运输途中损坏", "logistics", True, "carrier", {R, RR, EX}, True, True, True),
    ("wrong_item", "Wrong item sent", "发错货", "product", True, "shop", {R, RR, EX}, True, True, True),
    ("missing_parts", "Missing parts or items", "少件/漏发", "product", True, "shop", {R, RR}, True, True, True),
    ("not_as_described", "Not as described or pictured", "与描述不符", "product", True, "shop", {R, RR, EX}, False, True, True),
    ("colour_difference", "Colour difference", "色差", "product", False, "shop", {RR, EX}, False, True, True),
    ("size_issue", "Size does not fit", "尺码不合适", "product", False, "buyer", {RR, EX}, False, True, False),
    ("out_of_stock", "Out of stock", "缺货", "product", False, "shop", {R}, True, True, False),
    # service
    ("presale_attitude", "Pre-sale service attitude", "售前服务态度", "service", False, "shop", {R, RR}, False, True, False),
    ("misleading_advice", "Misleading pre-sale advice", "售前误导", "service", False, "shop", {R, RR}, False, True, False),
    ("slow_handling", "Slow handling", "处理不及时", "service", False, "shop", {R}, True, True, False),
    # logistics
    ("late_delivery", "Late delivery", "延迟发货/配送", "logistics", False, "shop", {R}, True, True, False),
    ("lost_parcel", "Parcel lost", "包裹丢失", "logistics", False, "carrier", {R}, True, True, False),
    ("wrong_delivery", "Delivered to the wrong place", "错误配送", "logistics", False, "carrier", {R}, True, True, False),
    # buyer
    ("changed_mind", "Changed my mind (before shipment)", "不想要了（未发货）", "buyer", False, "buyer", {R}, True, True, False),
    ("wrong_address", "Wrong address given", "地址填写错误", "buyer", False, "buyer", {R}, True, True, False),
    ("no_reason_7d", "7-day no-reason return", "七天无理由退货", "buyer", False, "buyer", {RR}, False, True, False),
    ("subjective", "Taste, looks or did not like it", "口感/外观/不喜欢", "buyer", False, "buyer", {RR}, False, True, False),
]
