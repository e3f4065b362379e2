from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("inbox_analytics", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("analyticscursor"),
        EnableRowLevelSecurity("dailystat"),
        EnableRowLevelSecurity("conversationfact"),
    ]
