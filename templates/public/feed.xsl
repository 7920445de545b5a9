{% load i18n static %}{% get_current_language as LANGUAGE_CODE %}<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an Atom feed of Whereabouts as a page when a browser opens it (public/feeds.py). The feed itself is unchanged. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat" indent="yes"/>
  <xsl:template match="/atom:feed">
    <html lang="{{ LANGUAGE_CODE }}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <link rel="stylesheet" href="{% static 'css/site.css' %}"/>
        <link rel="icon" href="{% static 'favicon.svg' %}" type="image/svg+xml"/>
      </head>
      <body>
        <header class="site-header">
          <p class="site-name"><a href="{% url 'public:home' %}">Whereabouts</a></p>
        </header>
        <main id="main" class="feed-page">
          <h1><xsl:value-of select="atom:title"/></h1>
          <p class="intro"><xsl:value-of select="atom:subtitle"/></p>
          <section class="feed-notice" aria-labelledby="subscribe-heading">
            <h2 id="subscribe-heading">{% translate "This page is a feed" %}</h2>
            <p>{% blocktranslate trimmed %}
              A feed reader can follow it and tell you of every new or updated case. Copy this address into your
              feed reader:
            {% endblocktranslate %}</p>
            <p><code class="feed-address"><xsl:value-of select="atom:link[@rel='self']/@href"/></code></p>
            <p><a href="{atom:link[@rel='alternate']/@href}">{% translate "Read the cases on the site" %}</a></p>
          </section>
          <h2>{% translate "Latest changes" %}</h2>
          <xsl:choose>
            <xsl:when test="atom:entry">
              <ol class="feed-entries">
                <xsl:for-each select="atom:entry">
                  <li>
                    <p class="feed-entry-title"><a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a></p>
                    <p class="feed-entry-date">
                      {% translate "Published on" %}<xsl:text> </xsl:text><time datetime="{atom:updated}"><xsl:value-of select="substring(atom:updated, 1, 10)"/></time>
                    </p>
                    <p><xsl:value-of select="atom:summary"/></p>
                  </li>
                </xsl:for-each>
              </ol>
            </xsl:when>
            <xsl:otherwise>
              <p>{% translate "No case has been published yet." %}</p>
            </xsl:otherwise>
          </xsl:choose>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
