from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_initial")]

    operations = [
        EnableRowLevelSecurity("contact"),
        EnableRowLevelSecurity("consent"),
        EnableRowLevelSecurity("conversation"),
        EnableRowLevelSecurity("message"),
    ]
