"""The reply library ops start with: the seed's own phrases for each step (seed 004), and ops may read it."""

from django.db import migrations

from aftersales.permissions import grant_in_migration

# (step, title, text), in the order ops use them.
TEMPLATES = [
    ("soothe", "Understand and hurry", "亲的心情我们理解呢，您先不要太过于着急，希望您给点时间，我们为您加急处理中呢"),
    ("soothe", "Sorry it went wrong", "亲，没有做到让您满意，十分的抱歉，不管问题如何解决，都不希望影响到您的心情"),
    ("soothe", "Doing our best", "非常理解您的心情，请您先别生气，我这边会尽力帮助您的。"),
    ("verify", "Photo of the problem", "麻烦您拍摄一下商品存在的问题，这边会尽快为您解决，请您放心！"),
    ("verify", "Photo or video to help", "亲，您将您的问题拍摄给我们，我们才能更好的为您服务，帮您解决问题呢。"),
    ("compensation", "Keep it with compensation",
     "抱歉亲，没能让您收到满意的产品，您试一下机器能不能正常使用，能正常使用我们补偿您xx元可以吗？"),
    ("compensation", "Ask to accept compensation", "亲亲，非常抱歉，您看这边给您申请一些补偿，您看是否可以接受呢？"),
    ("reship", "Re-ship the part, at our cost", "抱歉呢亲，这边给您补发对应的配件，所有补寄的费用都是我们承担，请您放心"),
    ("reship", "Re-ship plus compensation",
     "十分抱歉，给您带来不好的体验，这边给您补发配件再给您申请补偿10元，您看可以吗？"),
    ("exchange", "Exchange, shipping both ways on us",
     "亲，出现这样的问题真的非常抱歉，您放心我们一定会为您妥善处理。您看我们给您换货可以的吗，来回运费我们承担的，请您放心！"),
    ("retention", "Quality problem: exchange instead",
     "亲亲，实在抱歉给您添麻烦了，您看能不能给咱们一次机会，我们帮您安排换一下可以吗亲，运费我们承担呢。"),
    ("retention", "Not a quality problem: keep it with compensation",
     "亲，非常抱歉没有让您满意，这边给您申请补偿  元，亏本给您处理了呢亲，您看是否可以留下呢"),
    ("reason_guidance", "Choose the no-reason return",
     "亲爱哒为能更快为您处理退货，请您填写退货原因为“七天无理由退换货/其他”，问题描述填写退货或者换货，仓库会加快您的审核，感谢您的支持"),
]


def install(apps, schema_editor):
    ReplyTemplate = apps.get_model("tickets", "ReplyTemplate")
    for order, (step, title, text) in enumerate(TEMPLATES):
        ReplyTemplate.objects.get_or_create(step=step, title=title, defaults={"text": text, "display_order": order})
    grant_in_migration(apps, {"ops": ["view_replytemplate"]}, app_label="tickets")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_reply_templates")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
