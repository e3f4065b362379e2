from django.db import migrations

from tenants.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("campaign"),
        EnableRowLevelSecurity("campaignrecipient"),
        EnableRowLevelSecurity("campaignstats"),
        EnableRowLevelSecurity("campaigncursor"),
        EnableRowLevelSecurity("audienceupload"),
        EnableRowLevelSecurity("audienceuploadrow"),
        EnableRowLevelSecurity("pricingrate"),
    ]
