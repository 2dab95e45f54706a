"""Reply templates get a title in Chinese (issue #21: ops working in Chinese read English titles); the library
0010 installed gets its Chinese titles, each said as the seed's own headings say it (seed 004)."""

from django.db import migrations, models

# English title (as 0010 installed it) -> Chinese title.
TITLES_ZH = {
    "Understand and hurry": "理解心情，加急处理",
    "Sorry it went wrong": "没让您满意，十分抱歉",
    "Doing our best": "请先别生气，尽力帮您",
    "Photo of the problem": "拍摄商品问题",
    "Photo or video to help": "拍照或视频，帮您解决",
    "Keep it with compensation": "能正常使用则补偿",
    "Ask to accept compensation": "申请补偿，是否接受",
    "Re-ship the part, at our cost": "补发配件，费用我们承担",
    "Re-ship plus compensation": "补发配件并补偿",
    "Exchange, shipping both ways on us": "换货，来回运费我们承担",
    "Quality problem: exchange instead": "质量问题劝留：换货",
    "Not a quality problem: keep it with compensation": "非质量问题劝留：补偿留下",
    "Choose the no-reason return": "原因引导：七天无理由退换货",
}


def install(apps, schema_editor):
    """Only where no Chinese title was written yet: an administrator's own title stays."""
    ReplyTemplate = apps.get_model("tickets", "ReplyTemplate")
    for title, title_zh in TITLES_ZH.items():
        ReplyTemplate.objects.filter(title=title, title_zh="").update(title_zh=title_zh)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0017_history_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="replytemplate",
            name="title_zh",
            field=models.CharField(blank=True, help_text="shown to staff working in Chinese; empty: the title",
                                   max_length=100, verbose_name="title in Chinese"),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
