from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("templates_mgr", "0001_initial")]

    operations = [EnableRowLevelSecurity("messagetemplate")]
