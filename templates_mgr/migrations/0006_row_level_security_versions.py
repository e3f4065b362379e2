from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("templates_mgr", "0005_versions_banned_terms_samples")]

    operations = [
        EnableRowLevelSecurity("templateversion"),
        EnableRowLevelSecurity("bannedterm"),
        EnableRowLevelSecurity("headersample"),
    ]
