"""A generated loopback news site, served from memory, for the crawl and extraction benchmarks.

N article pages (default 5,000) spread over nine fictional outlets, one per
language (en ko es nl fr de zh ja ru), each with its own page layout, plus
their discovery documents:

* per outlet a Google News sitemap index and news sitemaps of at most
  ``--sitemap-size`` URLs (default 1,000), and an RSS feed of its latest 50
  articles;
* a site-wide sitemap index (``/sitemap-index.xml``) listing every news
  sitemap, named in ``robots.txt``.

Pages are 20-100 KB (log-uniform) and look like real news pages: cookie
banner, a mega-menu of 100+ links, breadcrumbs, an article body, "read also"
boxes, related and most-read lists, share bars, a comment thread, a long
footer, and the inline JSON state blob that CMS front-ends embed (which is
what makes most real pages big). Some carry JSON-LD (with ``articleBody`` on
some), some OpenGraph, some a ``<time datetime>``, some a date only in the
text, and a few none at all (only the sitemap knows it).

The text is built from hand-written template sentences per language, about
REAIM and military AI (``relevant_share`` of the articles, default 40%) or
about off-topic local news (including near misses: AI in phones, summits on
other subjects), mixed with filler sentences drawn from a per-language word
list. The filler is word salad, not prose, but it keeps each article's
character 5-grams distinct, so the near-duplicate stage does not fold
unrelated articles together; the sentences that carry the topic are real.

Deliberate oddities, as on real sites: ~2% republished copies of an earlier
article under a new URL (near duplicates), ~1% video stubs with too little
text to be an article, ~0.5% sitemap entries that are 404s, a Korean outlet in
EUC-KR (declared in the HTTP header) and a Russian one in windows-1251
(declared only in ``<meta>``).

Serve it:

    python bench/gen_site.py --pages 5000                # ThreadingHTTPServer, until Ctrl-C
    python bench/gen_site.py --server asyncio --sources-out /tmp/sources.yaml
    python bench/gen_site.py --pages 200 --write /tmp/site   # write the files instead
    python bench/gen_site.py --info-out /tmp/site.json       # + base URL, summary, ground truth per path

``bench/crawl_rate.py`` starts it with ``--info-out`` and waits for that file.

The generator is deterministic for a given ``--seed`` and base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import socket
import statistics
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# --- language material ------------------------------------------------------
# rel / off: template sentences ({n}, {city}, {host}, {person} are filled in);
# rel_titles / off_titles: headlines; words: filler vocabulary (nothing about
# AI or the military); nav: section names; ui: page furniture.


@dataclass(frozen=True)
class Lang:
    code: str
    rel_titles: tuple[str, ...]
    off_titles: tuple[str, ...]
    rel: tuple[str, ...]
    off: tuple[str, ...]
    words: tuple[str, ...]
    persons: tuple[str, ...]
    cities: tuple[str, ...]
    hosts: tuple[str, ...]
    nav: tuple[str, ...]
    ui: dict[str, str]
    comments: tuple[str, ...]
    spaced: bool = True  # words separated by spaces (not zh, ja)
    end: str = "."  # sentence end for filler
    particles: tuple[str, ...] = ()  # joined between filler words (ja)


def _t(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.strip().split("\n") if s.strip())


def _w(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


LANGS: dict[str, Lang] = {
    "en": Lang(
        "en",
        rel_titles=_t("""
            {n} nations gather in {host} for summit on military AI
            REAIM summit: states weigh rules for AI in the military domain
            Analysis: can voluntary rules tame military AI?
            Campaigners urge treaty as REAIM talks open in {host}
        """),
        off_titles=_t("""
            {city} approves {n} million for new cycle lanes
            Derby win lifts home side in front of {n} fans
            Retail sales up {n} percent in third quarter
            Phone makers race to add AI assistants to new models
        """),
        rel=_t("""
            Delegations from {n} countries gathered in {host} for the summit on Responsible AI in the Military Domain (REAIM), officials said on Tuesday.
            The meeting is expected to end with a non-binding document on the responsible use of AI in the military domain.
            {person}, who led the delegation, said military AI must remain under meaningful human control.
            Critics argue that voluntary principles on military AI governance do little to slow the spread of AI-enabled weapons.
            Around {n} states endorsed the Blueprint for Action at the previous REAIM summit, but China did not sign.
            Officials stressed that armed forces already use algorithms for logistics, intelligence analysis and targeting.
            The organisers said the next round of talks on AI in the military domain would focus on testing and certification.
            Campaigners called for a treaty banning autonomous weapons that select and attack targets without human control.
        """),
        off=_t("""
            The city council of {city} approved a budget of {n} million euros for new cycle lanes on Tuesday.
            {person} scored twice as the home side won the derby in front of {n} spectators.
            Retail sales rose {n} percent in the third quarter, driven by strong demand for household goods.
            Phone makers are racing to add AI assistants to their latest devices, analysts said.
            Heavy rain is expected across the region this weekend, with flood warnings issued for {n} districts.
            The museum in {city} will reopen next month after a renovation that took {n} years.
            Shares in the bank fell sharply after it reported a drop in quarterly profit.
            The festival drew more than {n} visitors, organisers said, despite the cold weather.
        """),
        words=_w("""local, report, week, people, new, year, plan, service, public, city, market, price, school, water,
            road, project, group, members, council, company, business, health, family, time, centre, office, team,
            season, morning, evening, statement, residents, community, support, growth, workers, union, energy,
            housing, transport, station, hospital, bridge, street, visitors, history, culture, music, film, book,
            museum, park, garden, harbour, fishermen, tourism, hotel, roadworks, festival, tradition, harvest,
            bakery, bicycle, region, club, neighbourhood, library, weather, river"""),
        persons=_w("Sarah Collins, James Okafor, Priya Raman, Tom Whitaker, Helen Marsh"),
        cities=_w("Leeds, Bristol, Norwich, Cardiff, Aberdeen"),
        hosts=_w("The Hague, Seoul, A Coruña"),
        nav=_w("News, World, Politics, Business, Technology, Sport, Culture, Opinion, Science, Travel"),
        ui={"read_also": "Read also", "related": "More from us", "most_read": "Most read", "comments": "Comments",
            "share": "Share this article", "newsletter": "Sign up for our morning briefing", "by": "By",
            "cookie": "We use cookies to keep this site working and to show you relevant advertising.",
            "video": "Watch: the day in pictures"},
        comments=_t("""
            Great article, thanks for the clear explanation.
            I don't agree with this at all.
            Who is going to pay for all of this?
            Finally someone asks the right questions.
        """),
    ),
    "ko": Lang(
        "ko",
        rel_titles=_t("""
            {n}개국 대표단 {host}에 모여…군사 AI 규범 논의
            REAIM 정상회의 개막…군사 영역에서의 인공지능 규범 논의
            [분석] 자발적 원칙으로 군사 AI 통제할 수 있나
            시민단체 "자율무기 금지 조약 필요"…REAIM 회의 앞두고
        """),
        off_titles=_t("""
            {city}시, {n}억 원 들여 자전거 도로 새로 만든다
            홈팀, {n}명 관중 앞에서 더비 승리
            3분기 소매 판매 {n}% 증가
            스마트폰 제조사들, 새 제품에 AI 비서 탑재 경쟁
        """),
        rel=_t("""
            군사적 영역에서의 책임 있는 인공지능(REAIM) 정상회의가 {host}에서 열려 {n}개국 대표단이 참석했다.
            정부는 이번 회의에서 군사 영역에서의 인공지능 활용에 관한 국제 규범을 논의했다고 밝혔다.
            {person} 외교부 차관은 군사 AI는 반드시 인간의 통제 아래 있어야 한다고 강조했다.
            지난 회의에서는 약 {n}개국이 행동을 위한 청사진을 지지했지만 중국은 서명하지 않았다.
            전문가들은 인공지능 무기의 확산을 막기 위해 구속력 있는 규범이 필요하다고 지적했다.
            국방부는 군의 인공지능 활용이 정보 분석과 군수 분야에서 빠르게 늘고 있다고 설명했다.
            시민단체들은 자율무기 금지 조약 협상을 시작하라고 촉구했다.
            이번 정상회의는 네덜란드와 공동으로 주최됐으며 기업과 학계 인사도 참여했다.
        """),
        off=_t("""
            {city}시는 {n}억 원을 들여 새 자전거 도로를 만들기로 했다.
            {person} 선수가 두 골을 넣으며 홈팀이 {n}명의 관중 앞에서 승리했다.
            3분기 소매 판매가 전년보다 {n}% 늘었다고 통계청이 밝혔다.
            스마트폰 제조사들이 새 제품에 AI 비서 기능을 잇따라 넣고 있다.
            이번 주말 전국에 많은 비가 내릴 것으로 예상돼 {n}개 지역에 호우 주의보가 내려졌다.
            {city} 시립미술관이 {n}년간의 보수 공사를 마치고 다음 달 다시 문을 연다.
            은행 주가는 분기 이익 감소 소식에 크게 떨어졌다.
            축제에는 추운 날씨에도 {n}만 명이 넘는 관람객이 몰렸다.
        """),
        words=_w("""지역, 주민, 시장, 계획, 발표, 올해, 지난해, 사업, 예산, 학교, 병원, 교통, 도로, 버스, 지하철, 가격,
            소비자, 기업, 직원, 노동자, 주택, 임대, 공원, 문화, 행사, 축제, 날씨, 기온, 오전, 오후, 관계자, 설명, 조사,
            결과, 증가, 감소, 경제, 수출, 생산, 시설, 서비스, 가족, 어린이, 노인, 건강, 의료, 환경, 에너지, 전기,
            물가, 은행, 금리, 투자, 공사, 개발, 위원회, 의견, 이야기, 상인, 항구, 어민, 관광, 도서관, 강변"""),
        persons=_w("김민준, 이서연, 박지호, 최수아, 정하늘"),
        cities=_w("부산, 대구, 광주, 대전, 전주"),
        hosts=_w("서울, 헤이그, 아코루냐"),
        nav=_w("정치, 경제, 사회, 국제, 문화, 스포츠, 오피니언, 연예, 과학, 지역"),
        ui={"read_also": "함께 보면 좋은 기사", "related": "관련 기사", "most_read": "많이 본 뉴스", "comments": "댓글",
            "share": "기사 공유하기", "newsletter": "뉴스레터 구독", "by": "기자",
            "cookie": "이 사이트는 서비스 제공을 위해 쿠키를 사용합니다.", "video": "[영상] 오늘의 사진"},
        comments=_t("""
            좋은 기사 감사합니다.
            전혀 동의할 수 없네요.
            세금은 누가 내나요?
            드디어 제대로 된 질문을 하네요.
        """),
    ),
    "es": Lang(
        "es",
        rel_titles=_t("""
            {n} países se reúnen en {host} en la cumbre sobre IA militar
            Cumbre REAIM: los Estados debaten normas para la IA en el ámbito militar
            Análisis: ¿pueden las normas voluntarias domar la IA militar?
            Las ONG piden un tratado al abrirse la cumbre REAIM en {host}
        """),
        off_titles=_t("""
            {city} aprueba {n} millones para nuevos carriles bici
            El equipo local gana el derbi ante {n} aficionados
            Las ventas minoristas suben un {n} por ciento en el tercer trimestre
            Los fabricantes de móviles compiten por los asistentes de IA
        """),
        rel=_t("""
            Delegaciones de {n} países se reunieron en {host} en la cumbre sobre Inteligencia Artificial Responsable en el Ámbito Militar (REAIM).
            El encuentro debía concluir con un documento no vinculante sobre el uso responsable de la IA en el ámbito militar.
            {person}, jefe de la delegación, afirmó que la IA militar debe seguir bajo control humano significativo.
            Unos {n} Estados respaldaron el Proyecto de Acción en la cumbre anterior, pero China no lo firmó.
            Los críticos sostienen que los principios voluntarios no frenan la expansión de las armas con IA.
            Las fuerzas armadas ya emplean algoritmos en logística, inteligencia y selección de objetivos, recordaron los expertos.
            Las organizaciones civiles pidieron un tratado que prohíba las armas autónomas.
            La próxima ronda de conversaciones sobre gobernanza de la IA militar se centrará en las pruebas y la certificación.
        """),
        off=_t("""
            El ayuntamiento de {city} aprobó un presupuesto de {n} millones de euros para nuevos carriles bici.
            {person} marcó dos goles y el equipo local ganó el derbi ante {n} espectadores.
            Las ventas minoristas subieron un {n} por ciento en el tercer trimestre.
            Los fabricantes de móviles compiten por incluir asistentes de IA en sus nuevos teléfonos.
            Se esperan fuertes lluvias este fin de semana, con avisos en {n} comarcas.
            El museo de {city} reabrirá el próximo mes tras una reforma de {n} años.
            Las acciones del banco cayeron tras anunciar un descenso del beneficio trimestral.
            El festival atrajo a más de {n} visitantes pese al frío, según los organizadores.
        """),
        words=_w("""ciudad, vecinos, mercado, plan, informe, semana, servicio, público, año, escuela, hospital, calle,
            puente, río, empresa, trabajadores, sindicato, precio, vivienda, alquiler, transporte, estación, tren,
            autobús, parque, cultura, música, teatro, libro, museo, historia, familia, salud, energía, agua, proyecto,
            consejo, equipo, temporada, mañana, tarde, portavoz, comunidad, apoyo, crecimiento, datos, barrio, playa,
            puerto, pescadores, turismo, hotel, obras, fiesta, tradición, cosecha, vino, panadería, bicicleta,
            comarca, biblioteca, lluvia, verano"""),
        persons=_w("Lucía Fernández, Javier Morales, Carmen Ruiz, Diego Navarro, Elena Castro"),
        cities=_w("Valencia, Sevilla, Bilbao, Zaragoza, Vigo"),
        hosts=_w("La Haya, Seúl, A Coruña"),
        nav=_w("Portada, Internacional, España, Economía, Sociedad, Deportes, Cultura, Opinión, Ciencia, Galicia"),
        ui={"read_also": "Lee también", "related": "Más noticias", "most_read": "Lo más leído",
            "comments": "Comentarios", "share": "Compartir", "newsletter": "Suscríbete a nuestro boletín",
            "by": "Por", "cookie": "Utilizamos cookies propias y de terceros para mejorar nuestros servicios.",
            "video": "Vídeo: el día en imágenes"},
        comments=_t("""
            Muy buen artículo, gracias.
            No estoy nada de acuerdo.
            ¿Y quién paga todo esto?
            Por fin alguien hace las preguntas correctas.
        """),
    ),
    "nl": Lang(
        "nl",
        rel_titles=_t("""
            {n} landen in {host} bijeen voor top over militaire AI
            REAIM-top: landen zoeken regels voor AI in het militaire domein
            Analyse: kunnen vrijwillige regels militaire AI temmen?
            Organisaties willen verdrag nu REAIM-top in {host} begint
        """),
        off_titles=_t("""
            {city} trekt {n} miljoen uit voor nieuwe fietspaden
            Thuisploeg wint derby voor {n} toeschouwers
            Detailhandel verkoopt {n} procent meer in derde kwartaal
            Telefoonmakers strijden om AI-assistenten
        """),
        rel=_t("""
            Delegaties uit {n} landen kwamen in {host} bijeen voor de top over verantwoorde AI in het militaire domein (REAIM).
            De bijeenkomst moest eindigen met een niet-bindend document over verantwoord gebruik van AI in het militaire domein.
            {person}, leider van de delegatie, zei dat militaire AI onder betekenisvolle menselijke controle moet blijven.
            Zo'n {n} landen onderschreven de Blauwdruk voor Actie tijdens de vorige top, maar China tekende niet.
            Critici vinden dat vrijwillige afspraken de opmars van AI-wapens nauwelijks afremmen.
            De krijgsmacht gebruikt algoritmes al voor logistiek, inlichtingen en het kiezen van doelen, zeggen deskundigen.
            Maatschappelijke organisaties riepen op tot een verdrag dat autonome wapens verbiedt.
            De volgende gespreksronde over AI in het militaire domein gaat over testen en certificering.
        """),
        off=_t("""
            De gemeenteraad van {city} trok {n} miljoen euro uit voor nieuwe fietspaden.
            {person} scoorde twee keer en de thuisploeg won de derby voor {n} toeschouwers.
            De detailhandelsverkopen stegen in het derde kwartaal met {n} procent.
            Telefoonmakers stoppen steeds vaker AI-assistenten in hun nieuwe toestellen.
            Dit weekend wordt veel regen verwacht; voor {n} gemeenten geldt code oranje.
            Het museum in {city} gaat volgende maand weer open na een verbouwing van {n} jaar.
            Het aandeel van de bank daalde fors na een lagere kwartaalwinst.
            Het festival trok ondanks de kou meer dan {n} bezoekers.
        """),
        words=_w("""stad, bewoners, markt, plan, rapport, week, gemeente, dienst, jaar, school, ziekenhuis, straat, brug,
            rivier, bedrijf, werknemers, vakbond, prijs, woning, huur, vervoer, station, trein, bus, park, cultuur,
            muziek, theater, boek, museum, geschiedenis, gezin, gezondheid, energie, water, project, raad, ploeg,
            seizoen, ochtend, middag, woordvoerder, buurt, steun, groei, gegevens, wijk, strand, haven, vissers,
            toerisme, hotel, werkzaamheden, feest, traditie, oogst, kaas, fiets, dijk, polder, bibliotheek, regen"""),
        persons=_w("Sanne de Vries, Joost Bakker, Fleur Jansen, Pieter Visser, Anouk Smit"),
        cities=_w("Utrecht, Groningen, Zwolle, Leiden, Breda"),
        hosts=_w("Den Haag, Seoul, A Coruña"),
        nav=_w("Nieuws, Binnenland, Buitenland, Politiek, Economie, Sport, Cultuur, Opinie, Wetenschap, Regio"),
        ui={"read_also": "Lees ook", "related": "Meer nieuws", "most_read": "Meest gelezen", "comments": "Reacties",
            "share": "Deel dit artikel", "newsletter": "Meld je aan voor de nieuwsbrief", "by": "Door",
            "cookie": "Wij gebruiken cookies om deze site goed te laten werken.", "video": "Video: de dag in beeld"},
        comments=_t("""
            Goed stuk, dank voor de uitleg.
            Hier ben ik het totaal niet mee eens.
            Wie gaat dit allemaal betalen?
            Eindelijk iemand die de juiste vragen stelt.
        """),
    ),
    "fr": Lang(
        "fr",
        rel_titles=_t("""
            {n} pays réunis à {host} pour un sommet sur l'IA militaire
            Sommet REAIM : les États cherchent des règles pour l'IA dans le domaine militaire
            Analyse : des règles volontaires peuvent-elles encadrer l'IA militaire ?
            Les ONG réclament un traité à l'ouverture du sommet REAIM à {host}
        """),
        off_titles=_t("""
            {city} vote {n} millions pour de nouvelles pistes cyclables
            Le club local remporte le derby devant {n} spectateurs
            Les ventes au détail progressent de {n} % au troisième trimestre
            Les fabricants de téléphones misent sur les assistants d'IA
        """),
        rel=_t("""
            Des délégations de {n} pays se sont réunies à {host} pour le sommet sur l'IA responsable dans le domaine militaire (REAIM).
            La rencontre devait s'achever par un document non contraignant sur l'utilisation responsable de l'IA dans le domaine militaire.
            {person}, chef de la délégation, a affirmé que l'IA militaire devait rester sous un contrôle humain significatif.
            Quelque {n} États avaient approuvé le Plan directeur pour l'action lors du précédent sommet, sans la Chine.
            Pour les critiques, des principes volontaires ne freinent guère la diffusion des armes dotées d'IA.
            Les forces armées utilisent déjà des algorithmes pour la logistique, le renseignement et le ciblage.
            Les ONG ont réclamé un traité interdisant les armes autonomes.
            Le prochain cycle de discussions sur la gouvernance de l'IA militaire portera sur les essais et la certification.
        """),
        off=_t("""
            Le conseil municipal de {city} a voté {n} millions d'euros pour de nouvelles pistes cyclables.
            {person} a marqué deux fois et l'équipe locale a remporté le derby devant {n} spectateurs.
            Les ventes au détail ont progressé de {n} % au troisième trimestre.
            Les fabricants de téléphones multiplient les assistants d'IA dans leurs nouveaux appareils.
            De fortes pluies sont attendues ce week-end ; {n} départements sont en vigilance orange.
            Le musée de {city} rouvrira le mois prochain après {n} ans de travaux.
            L'action de la banque a chuté après l'annonce d'un recul du bénéfice trimestriel.
            Le festival a attiré plus de {n} visiteurs malgré le froid.
        """),
        words=_w("""ville, habitants, marché, projet, rapport, semaine, mairie, service, année, école, hôpital, rue, pont,
            fleuve, entreprise, salariés, syndicat, prix, logement, loyer, transport, gare, train, bus, parc, culture,
            musique, théâtre, livre, musée, histoire, famille, santé, énergie, eau, conseil, équipe, saison, matin,
            soir, porte-parole, quartier, soutien, croissance, données, plage, port, pêcheurs, tourisme, hôtel,
            travaux, fête, tradition, récolte, vin, fromage, boulangerie, vélo, région, bibliothèque, pluie"""),
        persons=_w("Claire Dubois, Julien Moreau, Camille Laurent, Antoine Girard, Manon Lefèvre"),
        cities=_w("Lyon, Nantes, Lille, Rennes, Grenoble"),
        hosts=_w("La Haye, Séoul, La Corogne"),
        nav=_w("À la une, International, France, Politique, Économie, Sport, Culture, Idées, Sciences, Régions"),
        ui={"read_also": "À lire aussi", "related": "Sur le même sujet", "most_read": "Les plus lus",
            "comments": "Commentaires", "share": "Partager l'article", "newsletter": "Inscrivez-vous à la lettre",
            "by": "Par", "cookie": "Nous utilisons des cookies pour le bon fonctionnement du site.",
            "video": "Vidéo : la journée en images"},
        comments=_t("""
            Très bon article, merci.
            Je ne suis pas du tout d'accord.
            Et qui va payer tout cela ?
            Enfin quelqu'un qui pose les bonnes questions.
        """),
    ),
    "de": Lang(
        "de",
        rel_titles=_t("""
            {n} Staaten beraten in {host} über militärische KI
            REAIM-Gipfel: Staaten ringen um Regeln für KI im militärischen Bereich
            Analyse: Lassen sich militärische KI-Systeme mit freiwilligen Regeln zähmen?
            Organisationen fordern Vertrag zum Auftakt des REAIM-Gipfels in {host}
        """),
        off_titles=_t("""
            {city} bewilligt {n} Millionen für neue Radwege
            Gastgeber gewinnen Derby vor {n} Zuschauern
            Einzelhandelsumsatz steigt im dritten Quartal um {n} Prozent
            Handyhersteller setzen auf KI-Assistenten
        """),
        rel=_t("""
            Delegationen aus {n} Staaten kamen in {host} zum Gipfel über verantwortungsvolle KI im militärischen Bereich (REAIM) zusammen.
            Am Ende sollte ein unverbindliches Dokument zur verantwortungsvollen militärischen Nutzung von KI stehen.
            {person}, Leiter der Delegation, sagte, militärische KI müsse unter wirksamer menschlicher Kontrolle bleiben.
            Rund {n} Staaten hatten beim vorigen Gipfel die Blaupause für Maßnahmen unterstützt, China nicht.
            Kritiker halten freiwillige Grundsätze für zu schwach, um die Verbreitung von KI-Waffen zu bremsen.
            Die Streitkräfte nutzen Algorithmen bereits für Logistik, Aufklärung und Zielauswahl, sagen Fachleute.
            Nichtregierungsorganisationen forderten einen Vertrag, der autonome Waffen verbietet.
            Die nächste Gesprächsrunde über KI im militärischen Bereich soll sich mit Tests und Zertifizierung befassen.
        """),
        off=_t("""
            Der Stadtrat von {city} bewilligte {n} Millionen Euro für neue Radwege.
            {person} traf doppelt, und die Gastgeber gewannen das Derby vor {n} Zuschauern.
            Der Einzelhandelsumsatz stieg im dritten Quartal um {n} Prozent.
            Handyhersteller bauen immer mehr KI-Assistenten in ihre neuen Geräte ein.
            Am Wochenende wird viel Regen erwartet, für {n} Landkreise gelten Unwetterwarnungen.
            Das Museum in {city} öffnet nach {n} Jahren Umbau im nächsten Monat wieder.
            Die Aktie der Bank brach nach einem Gewinnrückgang ein.
            Das Festival lockte trotz der Kälte mehr als {n} Besucher an.
        """),
        words=_w("""Stadt, Bewohner, Markt, Plan, Bericht, Woche, Gemeinde, Dienst, Jahr, Schule, Krankenhaus, Straße,
            Brücke, Fluss, Unternehmen, Beschäftigte, Gewerkschaft, Preis, Wohnung, Miete, Verkehr, Bahnhof, Zug,
            Bus, Park, Kultur, Musik, Theater, Buch, Museum, Geschichte, Familie, Gesundheit, Energie, Wasser,
            Projekt, Rat, Mannschaft, Saison, Morgen, Abend, Sprecherin, Viertel, Unterstützung, Wachstum, Daten,
            Strand, Hafen, Fischer, Tourismus, Hotel, Bauarbeiten, Fest, Tradition, Ernte, Wein, Bäckerei, Fahrrad,
            Region, Verein, Bücherei, Regen"""),
        persons=_w("Anna Schneider, Lukas Becker, Julia Hoffmann, Felix Wagner, Laura Schulz"),
        cities=_w("Köln, Bonn, Münster, Aachen, Düsseldorf"),
        hosts=_w("Den Haag, Seoul, A Coruña"),
        nav=_w("Startseite, Politik, Ausland, Wirtschaft, Region, Sport, Kultur, Meinung, Wissen, Reise"),
        ui={"read_also": "Lesen Sie auch", "related": "Mehr zum Thema", "most_read": "Meistgelesen",
            "comments": "Kommentare", "share": "Artikel teilen", "newsletter": "Newsletter abonnieren", "by": "Von",
            "cookie": "Wir verwenden Cookies, um unsere Website für Sie zu verbessern.",
            "video": "Video: Der Tag in Bildern"},
        comments=_t("""
            Guter Artikel, danke.
            Da bin ich ganz anderer Meinung.
            Und wer soll das alles bezahlen?
            Endlich stellt jemand die richtigen Fragen.
        """),
    ),
    "zh": Lang(
        "zh",
        rel_titles=_t("""
            {n}国代表齐聚{host} 讨论军事人工智能规则
            REAIM峰会：各国商讨军事领域人工智能规范
            分析：自愿原则能否约束军事人工智能
            民间团体呼吁缔结条约 REAIM峰会在{host}开幕
        """),
        off_titles=_t("""
            {city}拨款{n}亿元修建自行车道
            主队在{n}名观众面前赢得德比
            第三季度零售额增长{n}%
            手机厂商竞相推出人工智能助手
        """),
        rel=_t("""
            来自{n}个国家的代表团齐聚{host}，出席军事领域负责任人工智能（REAIM）峰会。
            会议预计将通过一份关于军事领域负责任使用人工智能的非约束性文件。
            代表团团长{person}表示，军事人工智能必须始终处于有效的人类控制之下。
            在上届峰会上，约{n}个国家支持了行动蓝图，但中国没有签署。
            批评者认为，自愿性原则难以遏制人工智能武器的扩散。
            专家指出，军队已经在后勤、情报分析和目标选择中使用算法。
            民间团体呼吁谈判一项禁止自主武器的条约。
            下一轮关于军事领域人工智能的磋商将聚焦测试与认证。
        """),
        off=_t("""
            {city}市议会批准拨款{n}亿元，用于修建新的自行车道。
            {person}梅开二度，主队在{n}名观众面前赢得德比。
            第三季度零售额同比增长{n}%。
            手机厂商纷纷在新机型中加入人工智能助手。
            本周末多地将有强降雨，{n}个地区发布暴雨预警。
            {city}博物馆经过{n}年翻修，将于下月重新开放。
            该银行公布季度利润下滑后，股价大幅下跌。
            尽管天气寒冷，音乐节仍吸引了超过{n}名游客。
        """),
        words=_w("""城市, 居民, 市场, 计划, 报告, 本周, 服务, 今年, 学校, 医院, 街道, 桥梁, 河流, 企业, 员工, 工会,
            价格, 住房, 租金, 交通, 车站, 列车, 公交, 公园, 文化, 音乐, 剧院, 图书, 博物馆, 历史, 家庭, 健康, 能源,
            用水, 项目, 委员会, 球队, 赛季, 上午, 下午, 发言人, 社区, 支持, 增长, 数据, 海滩, 港口, 渔民, 旅游, 酒店,
            工程, 节日, 传统, 收成, 茶叶, 面包, 自行车, 地区, 协会, 图书馆, 降雨"""),
        persons=_w("王伟, 李娜, 张敏, 陈杰, 刘洋"),
        cities=_w("杭州, 成都, 厦门, 青岛, 苏州"),
        hosts=_w("海牙, 首尔, 拉科鲁尼亚"),
        nav=_w("首页, 国际, 国内, 财经, 科技, 体育, 文化, 评论, 健康, 旅游"),
        ui={"read_also": "延伸阅读", "related": "相关新闻", "most_read": "热门文章", "comments": "评论",
            "share": "分享", "newsletter": "订阅每日简报", "by": "记者", "cookie": "本网站使用Cookie以改善您的浏览体验。",
            "video": "视频：今日图片"},
        comments=_t("""
            好文章，谢谢。
            完全不同意。
            这些钱谁来出？
            终于有人问对了问题。
        """),
        spaced=False,
        end="。",
    ),
    "ja": Lang(
        "ja",
        rel_titles=_t("""
            {n}か国が{host}に集結　軍事AIのルールを協議
            REAIMサミット開幕　軍事領域におけるAIの規範を議論
            【解説】自主的な原則で軍事AIを制御できるか
            市民団体が条約を要求　{host}でREAIMサミット
        """),
        off_titles=_t("""
            {city}市、自転車道整備に{n}億円
            地元チーム、{n}人の観客の前でダービー制す
            第3四半期の小売売上高{n}％増
            スマホ各社、AIアシスタント搭載を競う
        """),
        rel=_t("""
            軍事領域における責任あるAI（REAIM）に関するサミットが{host}で開かれ、{n}か国の代表団が参加した。
            会議では、軍事領域におけるAIの責任ある利用に関する法的拘束力のない文書の採択が見込まれている。
            代表団を率いる{person}氏は、軍事AIは人間の実質的な関与の下に置かれるべきだと強調した。
            前回のサミットでは約{n}か国が行動のための青写真を支持したが、中国は署名しなかった。
            批判的な専門家は、自主的な原則ではAI兵器の拡散を止められないと指摘する。
            各国の軍隊はすでに兵站や情報分析、標的選定にアルゴリズムを使っている。
            市民団体は自律型兵器を禁止する条約の交渉開始を求めた。
            次回の協議では、AIの軍事利用に関する試験と認証が焦点となる。
        """),
        off=_t("""
            {city}市議会は、新しい自転車道の整備に{n}億円を充てる予算を可決した。
            {person}選手が2得点を挙げ、地元チームが{n}人の観客の前でダービーを制した。
            第3四半期の小売売上高は前年同期比{n}％増えた。
            スマートフォン各社は新機種にAIアシスタントを相次いで搭載している。
            週末は各地で大雨が予想され、{n}の地域に警報が出された。
            {city}市立美術館が{n}年に及ぶ改修を終え、来月再開する。
            銀行株は四半期利益の減少を受けて大きく下落した。
            祭りには寒さにもかかわらず{n}人を超える来場者が訪れた。
        """),
        words=_w("""地域, 住民, 市場, 計画, 報告, 今週, サービス, 今年, 学校, 病院, 道路, 橋, 川, 企業, 社員, 組合, 価格,
            住宅, 家賃, 交通, 駅, 電車, バス, 公園, 文化, 音楽, 劇場, 書店, 博物館, 歴史, 家族, 健康, エネルギー, 水道,
            事業, 委員会, チーム, シーズン, 午前, 午後, 担当者, 商店街, 支援, 成長, データ, 海岸, 港, 漁業, 観光,
            旅館, 工事, 祭り, 伝統, 収穫, お茶, パン, 自転車, 県, 協会, 図書館, 雨"""),
        persons=_w("佐藤健, 鈴木花子, 高橋誠, 田中美咲, 渡辺翔"),
        cities=_w("横浜, 札幌, 福岡, 仙台, 金沢"),
        hosts=_w("ソウル, ハーグ, コルーニャ"),
        nav=_w("トップ, 国際, 政治, 経済, 社会, スポーツ, 文化, オピニオン, 科学, 地域"),
        ui={"read_also": "あわせて読みたい", "related": "関連記事", "most_read": "よく読まれている記事",
            "comments": "コメント", "share": "この記事をシェア", "newsletter": "ニュースレターに登録", "by": "記者",
            "cookie": "当サイトはサービス向上のためにクッキーを使用しています。", "video": "動画：きょうの写真"},
        comments=_t("""
            わかりやすい記事でした。
            まったく同意できません。
            誰がお金を払うのでしょうか。
            やっと正しい問いが出てきました。
        """),
        spaced=False,
        end="した。",
        particles=_w("の, が, を, と, で, に, は, も"),
    ),
    "ru": Lang(
        "ru",
        rel_titles=_t("""
            Делегации {n} стран обсудят в городе {host} правила для военного ИИ
            Саммит REAIM: государства ищут нормы для ИИ в военной сфере
            Анализ: можно ли обуздать военный ИИ добровольными правилами
            Правозащитники требуют договора на саммите REAIM
        """),
        off_titles=_t("""
            Власти города {city} выделили {n} млн рублей на велодорожки
            Хозяева выиграли дерби на глазах {n} зрителей
            Розничные продажи выросли на {n}% в третьем квартале
            Производители смартфонов соревнуются в ИИ-помощниках
        """),
        rel=_t("""
            Делегации {n} стран собрались в городе {host} на саммит по ответственному ИИ в военной сфере (REAIM).
            По итогам встречи ожидается необязывающий документ об ответственном использовании ИИ в военной сфере.
            Глава делегации {person} заявил, что военный ИИ должен оставаться под реальным контролем человека.
            На прошлом саммите около {n} государств поддержали план действий, однако Китай его не подписал.
            Критики считают, что добровольные принципы не остановят распространение оружия с ИИ.
            Армия уже применяет алгоритмы в логистике, разведке и выборе целей, отмечают эксперты.
            Правозащитные организации призвали начать переговоры о договоре, запрещающем автономное оружие.
            Следующий раунд консультаций об ИИ в военной сфере будет посвящен испытаниям и сертификации.
        """),
        off=_t("""
            Городской совет города {city} выделил {n} млн рублей на новые велодорожки.
            {person} оформил дубль, и хозяева выиграли дерби на глазах {n} зрителей.
            Розничные продажи в третьем квартале выросли на {n}%.
            Производители смартфонов встраивают ИИ-помощников в новые модели.
            В выходные ожидаются сильные дожди, предупреждения объявлены в {n} районах.
            Музей города {city} откроется в следующем месяце после {n} лет реставрации.
            Акции банка резко упали после сообщения о снижении квартальной прибыли.
            Фестиваль посетили более {n} человек, несмотря на холод.
        """),
        words=_w("""город, жители, рынок, план, доклад, неделя, служба, год, школа, больница, улица, мост, река,
            компания, сотрудники, профсоюз, цена, жилье, аренда, транспорт, вокзал, поезд, автобус, парк, культура,
            музыка, театр, книга, музей, история, семья, здоровье, энергия, вода, проект, совет, команда, сезон,
            утро, вечер, представитель, район, поддержка, рост, данные, пляж, порт, рыбаки, туризм, гостиница,
            ремонт, праздник, традиция, урожай, хлеб, велосипед, область, общество, библиотека, дождь"""),
        persons=_w("Анна Смирнова, Дмитрий Иванов, Ольга Кузнецова, Сергей Попов, Мария Соколова"),
        cities=_w("Казань, Самара, Пермь, Тверь, Калуга"),
        hosts=_w("Гаага, Сеул, Корунья"),
        nav=_w("Главное, Политика, В мире, Экономика, Общество, Спорт, Культура, Мнения, Наука, Регионы"),
        ui={"read_also": "Читайте также", "related": "По теме", "most_read": "Самое читаемое",
            "comments": "Комментарии", "share": "Поделиться", "newsletter": "Подпишитесь на рассылку", "by": "Автор",
            "cookie": "Мы используем файлы cookie для улучшения работы сайта.", "video": "Видео: день в фотографиях"},
        comments=_t("""
            Хорошая статья, спасибо.
            Совершенно не согласен.
            А кто за все это заплатит?
            Наконец-то кто-то задает правильные вопросы.
        """),
    ),
}


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    language: str
    country: str
    timezone: str
    utc_offset: str  # as printed in dates, e.g. "+09:00"
    layout: str  # story | portal | cms
    codec: str = "utf-8"  # Python codec the pages are encoded in
    http_charset: str | None = "utf-8"  # charset in the Content-Type header (None: none sent)
    meta_charset: str | None = "utf-8"  # <meta charset> (None: none)
    weight: float = 1.0  # share of the articles


OUTLETS: tuple[Outlet, ...] = (
    Outlet("harbour-times", "The Harbour Times", "en", "GB", "Europe/London", "+00:00", "story", weight=3.0),
    Outlet("hangang-ilbo", "한강일보", "ko", "KR", "Asia/Seoul", "+09:00", "portal", codec="cp949",
           http_charset="euc-kr", meta_charset="euc-kr", weight=1.5),
    Outlet("el-faro-diario", "El Faro Diario", "es", "ES", "Europe/Madrid", "+01:00", "cms"),
    Outlet("de-dijkbode", "De Dijkbode", "nl", "NL", "Europe/Amsterdam", "+01:00", "story"),
    Outlet("le-veilleur", "Le Veilleur", "fr", "FR", "Europe/Paris", "+01:00", "cms"),
    Outlet("taunus-anzeiger", "Taunus-Anzeiger", "de", "DE", "Europe/Berlin", "+01:00", "story"),
    Outlet("dongfang-ribao", "东方日报", "zh", "SG", "Asia/Singapore", "+08:00", "portal"),
    Outlet("kaigan-shimbun", "海岸新聞", "ja", "JP", "Asia/Tokyo", "+09:00", "cms"),
    Outlet("volzhskaya-pravda", "Волжская правда", "ru", "RU", "Europe/Moscow", "+03:00", "portal", codec="cp1251",
           http_charset=None, meta_charset="windows-1251"),
)

# Outlets whose feed links carry tracking parameters (the sitemap lists the clean URL).
UTM_FEEDS = frozenset({"harbour-times", "le-veilleur", "kaigan-shimbun"})

NOT_FOUND = b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>404</title></head><body><h1>404 Not Found</h1></body></html>"


@dataclass(frozen=True)
class Resource:
    status: int
    content_type: str
    body: bytes


@dataclass
class PageInfo:
    path: str
    outlet: str
    language: str
    kind: str  # article | duplicate | stub | missing
    relevant: bool
    published: str
    title: str
    size: int = 0  # bytes served (0 for missing)
    duplicate_of: str | None = None


@dataclass
class Site:
    base_url: str
    routes: dict[str, Resource]
    pages: list[PageInfo]
    outlets: tuple[Outlet, ...]
    sitemap_files: list[str] = field(default_factory=list)  # paths of the news sitemaps

    @property
    def sitemap_index_url(self) -> str:
        return self.base_url + "/sitemap-index.xml"

    def url(self, path: str) -> str:
        return self.base_url + path

    def sources_yaml(self) -> str:
        """A sources file (crawler/sources.py schema) with one sitemap and one RSS source per outlet."""
        lines = ["# Generated by bench/gen_site.py: the benchmark site's outlets.", "sources:"]
        for o in self.outlets:
            for kind, path in (("sitemap", f"/{o.id}/sitemap-index.xml"), ("rss", f"/{o.id}/rss.xml")):
                lines.append(
                    f"  - {{id: {o.id}-{kind}, name: {json.dumps(o.name, ensure_ascii=False)}, language: {o.language}, "
                    f"country: {o.country}, timezone: {o.timezone}, kind: {kind}, urls: [{json.dumps(self.url(path))}]}}"
                )
        return "\n".join(lines) + "\n"

    def truth(self) -> dict[str, dict[str, Any]]:
        """Ground truth per path: kind (article, duplicate, stub, missing), relevant, duplicate_of, language."""
        return {p.path: {"kind": p.kind, "relevant": p.relevant, "duplicate_of": p.duplicate_of,
                         "language": p.language} for p in self.pages}

    def summary(self) -> dict[str, Any]:
        served = [p for p in self.pages if p.kind != "missing"]
        sizes = sorted(p.size for p in served)
        return {
            "pages": len(self.pages),
            "by_kind": dict(Counter(p.kind for p in self.pages)),
            "by_language": dict(Counter(p.language for p in self.pages)),
            "relevant_articles": sum(1 for p in self.pages if p.kind == "article" and p.relevant),
            "offtopic_articles": sum(1 for p in self.pages if p.kind == "article" and not p.relevant),
            "sitemaps": len(self.sitemap_files),
            "page_kb": {
                "min": round(sizes[0] / 1024, 1) if sizes else 0,
                "median": round(statistics.median(sizes) / 1024, 1) if sizes else 0,
                "max": round(sizes[-1] / 1024, 1) if sizes else 0,
                "total_mb": round(sum(sizes) / 2**20, 1),
            },
        }


# --- page generation ----------------------------------------------------------

_START = datetime(2023, 1, 1, tzinfo=UTC)
_SPAN_DAYS = 3 * 365 + 60


def _offset(value: str) -> timezone:
    sign = -1 if value.startswith("-") else 1
    hours, minutes = value[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


class _Writer:
    """Builds one site; all randomness comes from one seeded generator."""

    def __init__(self, base_url: str, rng: random.Random, min_kb: float, max_kb: float) -> None:
        self.base = base_url.rstrip("/")
        self.rng = rng
        self.min_kb, self.max_kb = min_kb, max_kb
        self.chrome: dict[str, tuple[str, str]] = {}  # outlet id -> (header html, footer html), same on every page
        self.teasers: dict[str, list[str]] = {}  # outlet id -> JSON teaser objects for the state blob
        self.by_outlet: dict[str, list[PageInfo]] = {}
        self.bytes_per_char: dict[str, float] = {}

    # text ---------------------------------------------------------------
    def fill(self, template: str, lang: Lang, relevant: bool) -> str:
        r = self.rng
        return template.format(
            n=r.randint(2, 199),
            city=r.choice(lang.cities), host=r.choice(lang.hosts), person=r.choice(lang.persons),
        )

    def filler(self, lang: Lang) -> str:
        r = self.rng
        words = r.choices(lang.words, k=r.randint(7, 18))
        if lang.particles:
            text = "".join(w + r.choice(lang.particles) for w in words[:-1]) + words[-1]
        elif lang.spaced:
            text = " ".join(words)
        else:
            text = "".join(words)
            cut = r.randint(3, max(4, len(text) - 2))
            text = text[:cut] + "，" + text[cut:]
        if lang.spaced and text:
            text = text[0].upper() + text[1:]
        return text + lang.end

    def paragraphs(self, lang: Lang, relevant: bool) -> list[str]:
        r = self.rng
        pool = lang.rel if relevant else lang.off
        topical = r.sample(pool, k=min(len(pool), r.randint(3, 6)))
        if relevant and not {pool[0], pool[1]} & set(topical):
            topical[0] = pool[r.randint(0, 1)]  # the summit named (the first two templates): clearly on topic
        out = []
        for i in range(r.randint(5, 14)):
            sentences = [self.filler(lang) for _ in range(r.randint(1, 4))]
            if i < len(topical):
                sentences.insert(r.randint(0, 1), self.fill(topical[i], lang, relevant))
            out.append((" " if lang.spaced else "").join(sentences))
        return out

    # per-outlet chrome ----------------------------------------------------
    def outlet_chrome(self, o: Outlet, lang: Lang) -> tuple[str, str]:
        if o.id in self.chrome:
            return self.chrome[o.id]
        r, b = self.rng, f"{self.base}/{o.id}"
        menu = []
        for s, section in enumerate(lang.nav):
            subs = "".join(
                f'<li><a href="{b}/s/{s}/{k}/">{escape(r.choice(lang.words))}</a></li>'
                for k in range(r.randint(8, 16))
            )
            menu.append(f'<li class="menu-item"><a href="{b}/s/{s}/">{escape(section)}</a>'
                        f'<ul class="sub-menu">{subs}</ul></li>')
        header = (
            f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>{escape(lang.ui["cookie"])}</p>'
            '<button class="cc-accept">OK</button> <button class="cc-settings">Cookie settings</button></div>\n'
            f'<div class="ad-slot ad-leaderboard" data-slot="top"><iframe src="about:blank" title="ad"></iframe></div>\n'
            f'<header class="site-header"><div class="topbar"><a href="{b}/account/login">Login</a> '
            f'<a href="{b}/subscribe/">Subscribe</a></div><a class="logo" href="{b}/">{escape(o.name)}</a>\n'
            f'<nav class="main-nav" aria-label="main"><ul>{"".join(menu)}</ul></nav>\n'
            f'<form class="search" action="{b}/search" method="get"><input type="search" name="q"></form></header>\n'
        )
        footer_links = " | ".join(
            f'<a href="{b}/info/{k}/">{escape(r.choice(lang.words))}</a>' for k in range(r.randint(30, 50))
        )
        footer = (
            f'<footer class="site-footer"><nav class="footer-links">{footer_links}</nav>'
            f'<p class="copyright">© 2026 {escape(o.name)}</p></footer>\n'
        )
        self.chrome[o.id] = (header, footer)
        return header, footer

    def teaser_pool(self, o: Outlet, lang: Lang) -> list[str]:
        """JSON teaser objects of the outlet, made once (on its first page)."""
        pool = self.teasers.get(o.id)
        if pool is None:
            r = self.rng
            pool = []
            for k in range(400):
                title = self.fill(r.choice(lang.off_titles + lang.rel_titles), lang, False)
                pool.append(json.dumps({
                    "id": f"{o.id}-{k}", "title": title, "url": f"{self.base}/{o.id}/teaser/{k}.html",
                    "section": r.choice(lang.nav), "views": r.randint(10, 99999),
                    "image": {"src": f"{self.base}/{o.id}/img/{k}.jpg", "w": 1200, "h": 675, "alt": title},
                    "flags": {"premium": r.random() < 0.2, "live": False, "video": r.random() < 0.1},
                }, ensure_ascii=False))
            self.teasers[o.id] = pool
            sample = ",".join(pool)
            self.bytes_per_char[o.id] = len(sample.encode(o.codec, errors="xmlcharrefreplace")) / len(sample)
        return pool

    def state_blob(self, pool: list[str], start: int, size: int) -> str:
        """The CMS's inline JSON state, about ``size`` characters (what makes real pages heavy)."""
        parts, total = [], 0
        i = start
        while total < size:
            parts.append(pool[i % len(pool)])
            total += len(parts[-1]) + 1
            i += 1
        return '{"page":{"type":"article"},"teasers":[' + ",".join(parts) + '],"config":{"ads":true,"paywall":"metered"}}'

    # one page --------------------------------------------------------------
    def page(self, o: Outlet, info: PageInfo, paragraphs: list[str], related: list[PageInfo]) -> bytes:
        lang = LANGS[o.language]
        r = self.rng
        url = self.base + info.path
        published = info.published
        title = info.title
        author = r.choice(lang.persons)
        date_mode = r.choices(("json-ld", "meta", "time", "text", "none"), (40, 25, 20, 10, 5))[0]
        if o.layout == "portal" and date_mode == "time":
            date_mode = "text"
        description = paragraphs[0][:150] if paragraphs else title
        head = [
            f'<meta charset="{o.meta_charset}">' if o.meta_charset else "",
            f"<title>{escape(title)} | {escape(o.name)}</title>",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="description" content="{escape(description)}">',
            f'<link rel="canonical" href="{url}">',
            f'<link rel="alternate" type="application/rss+xml" href="{self.base}/{o.id}/rss.xml">',
        ]
        if o.layout != "portal" or r.random() < 0.5:
            head += [
                '<meta property="og:type" content="article">',
                f'<meta property="og:site_name" content="{escape(o.name)}">',
                f'<meta property="og:title" content="{escape(title)}">',
                f'<meta property="og:url" content="{url}">',
                f'<meta property="og:image" content="{self.base}/{o.id}/img/og.jpg">',
                f'<meta property="og:locale" content="{o.language}_{o.country}">',
            ]
        if date_mode == "meta":
            head.append(f'<meta property="article:published_time" content="{published}">')
        if date_mode == "json-ld":
            ld: dict[str, Any] = {
                "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                "datePublished": published, "author": [{"@type": "Person", "name": author}],
                "publisher": {"@type": "Organization", "name": o.name}, "inLanguage": o.language,
                "mainEntityOfPage": {"@type": "WebPage", "@id": url},
                "image": [f"{self.base}/{o.id}/img/og.jpg"], "articleSection": r.choice(lang.nav),
            }
            if r.random() < 0.5:
                ld["articleBody"] = "\n\n".join(paragraphs)
            head.append('<script type="application/ld+json">' + json.dumps(ld, ensure_ascii=False, indent=1) + "</script>")
        head.append(
            "<style>body{font-family:Georgia,serif;margin:0}.site-header,.site-footer{background:#f4f4f4;padding:8px}"
            ".main-nav ul{list-style:none;display:flex}.sub-menu{display:none}.cookie-banner{position:fixed;bottom:0}"
            "main{max-width:760px;margin:0 auto}.ad-slot{min-height:90px}</style>"
        )
        head.append(
            '<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>'
            "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
            "gtag('js',new Date());gtag('config','G-XXXX');</script>"
        )
        header, footer = self.outlet_chrome(o, lang)
        ui = lang.ui
        date_display = published[:16].replace("T", " ")
        time_html = (f'<time datetime="{published}">{date_display}</time>' if date_mode == "time"
                     else f'<span class="date">{date_display}</span>' if date_mode == "text" else "")
        byline = f'<p class="byline">{escape(ui["by"])} <a rel="author" href="{self.base}/{o.id}/author/{lang.persons.index(author)}">{escape(author)}</a></p>'

        body_parts = []
        read_also_at = r.randint(2, 4)
        for i, p in enumerate(paragraphs):
            if o.layout == "portal":
                body_parts.append(escape(p) + "<br><br>\n")
            else:
                body_parts.append(f"<p>{escape(p)}</p>\n")
            if i == read_also_at and related:
                rel = r.choice(related)
                body_parts.append(f'<aside class="read-also"><strong>{escape(ui["read_also"])}:</strong> '
                                  f'<a href="{self.base}{rel.path}">{escape(rel.title)}</a></aside>\n')
            if i == 1:
                body_parts.append('<div class="ad-slot ad-inline" data-slot="mid"></div>\n')
        related_html = "".join(f'<li><a href="{self.base}{p.path}">{escape(p.title)}</a></li>' for p in related)
        most_read = "".join(f'<li><span class="rank">{k + 1}</span> <a href="{self.base}{p.path}">{escape(p.title)}</a></li>'
                            for k, p in enumerate(related[:10]))
        comments = []
        n_comments = r.choice((0, 0, r.randint(1, 8), r.randint(10, 40))) if o.layout != "portal" else r.randint(0, 5)
        for k in range(n_comments):
            text = r.choice(lang.comments) + " " + self.filler(lang)
            comments.append(f'<li class="comment" id="c{k}"><span class="comment-author">{escape(r.choice(lang.persons))}</span>'
                            f'<div class="comment-body"><p>{escape(text)}</p></div>'
                            f'<a class="reply" href="#c{k}">Reply</a></li>')
        comments_html = (f'<section id="comments" class="comments"><h3>{escape(ui["comments"])} ({n_comments})</h3>'
                         f'<ol>{"".join(comments)}</ol></section>\n') if comments else ""
        share = "".join(f'<a class="share-{k}" href="https://share.example/{k}?u={url}" rel="nofollow">{k}</a> '
                        for k in ("facebook", "x", "linkedin", "email"))
        h1 = f'<h1 class="headline">{escape(title)}</h1>'
        if o.layout == "portal":
            main = (
                f'<div id="container"><div class="cont_area"><div class="article_head"><h3 class="tit_view">{escape(title)}</h3>'
                f'<div class="info_view"><span class="txt_info">{escape(author)} {escape(ui["by"])}</span> {time_html}</div></div>\n'
                f'<div id="articleBody" class="article_view">{"".join(body_parts)}</div>\n'
                f'<div class="share_view">{share}</div>\n'
                f'<div class="relate_news"><h4>{escape(ui["related"])}</h4><ul>{related_html}</ul></div>\n'
                f"{comments_html}</div>"
                f'<div class="aside"><h4>{escape(ui["most_read"])}</h4><ol>{most_read}</ol></div></div>\n'
            )
        else:
            tag = "article" if o.layout == "story" else "div"
            main = (
                f'<main id="content"><nav class="breadcrumb"><a href="{self.base}/{o.id}/">{escape(o.name)}</a> &rsaquo; '
                f'<a href="{self.base}/{o.id}/s/0/">{escape(lang.nav[0])}</a></nav>\n'
                f'<{tag} class="story"><header class="story-header">{h1}{byline}{time_html}</header>\n'
                f'<div class="story-body">{"".join(body_parts)}</div>\n'
                f'<div class="share-bar"><span>{escape(ui["share"])}</span> {share}</div></{tag}>\n'
                f'<section class="related"><h2>{escape(ui["related"])}</h2><ul>{related_html}</ul></section>\n'
                f'<aside class="most-read"><h3>{escape(ui["most_read"])}</h3><ol>{most_read}</ol></aside>\n'
                f'<aside class="newsletter"><h3>{escape(ui["newsletter"])}</h3><form><input type="email"></form></aside>\n'
                f"{comments_html}</main>\n"
            )
        html_lang = f' lang="{o.language}"' if r.random() < 0.9 else ""
        page = (f"<!DOCTYPE html>\n<html{html_lang}>\n<head>\n" + "\n".join(h for h in head if h) + "\n</head>\n"
                f'<body class="article-page {o.id}">\n{header}{main}{footer}')
        # The same random draws whatever the base URL, so a seed gives the same site on any port.
        target = int(1024 * math.exp(r.uniform(math.log(self.min_kb), math.log(self.max_kb))))
        pool = self.teaser_pool(o, lang)
        start = r.randrange(len(pool))
        current = len(page.encode(o.codec, errors="xmlcharrefreplace"))
        if target > current + 200:
            blob = self.state_blob(pool, start, int((target - current - 200) / self.bytes_per_char[o.id]))
            page += f"<script>window.__PRELOADED_STATE__ = {blob};</script>\n"
        page += "</body>\n</html>\n"
        return page.encode(o.codec, errors="xmlcharrefreplace")

    def stub(self, o: Outlet, info: PageInfo) -> bytes:
        lang = LANGS[o.language]
        header, footer = self.outlet_chrome(o, lang)
        meta = f'<meta charset="{o.meta_charset}">' if o.meta_charset else ""
        page = (f'<!DOCTYPE html><html lang="{o.language}"><head>{meta}<title>{escape(info.title)}</title>'
                f'<link rel="canonical" href="{self.base}{info.path}"></head><body>{header}'
                f'<main><h1>{escape(info.title)}</h1><div class="video-player" data-src="{self.base}/{o.id}/v/1.m3u8"></div>'
                f"<p>{escape(lang.ui['video'])}</p></main>{footer}</body></html>")
        return page.encode(o.codec, errors="xmlcharrefreplace")


def _content_type(o: Outlet) -> str:
    return f"text/html; charset={o.http_charset}" if o.http_charset else "text/html"


def _slug(title: str, lang: Lang, number: int) -> str:
    if lang.code in ("en", "es", "nl", "fr", "de"):
        ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
        words = "".join(c if c.isalnum() else " " for c in ascii_title).split()[:8]
        return "-".join(words) + f"-{number}"
    return f"{number:07d}"


def generate_site(
    base_url: str,
    pages: int = 5000,
    *,
    seed: int = 1,
    sitemap_size: int = 1000,
    relevant_share: float = 0.4,
    duplicate_share: float = 0.02,
    stub_share: float = 0.01,
    missing_share: float = 0.005,
    min_kb: float = 20.0,
    max_kb: float = 100.0,
    rss_items: int = 50,
) -> Site:
    """Generate the whole site in memory for ``base_url`` (``http://127.0.0.1:PORT``)."""
    if not 1 <= sitemap_size <= 50_000:
        raise ValueError("sitemap_size must be between 1 and 50,000")
    rng = random.Random(seed)
    w = _Writer(base_url, rng, min_kb, max_kb)
    base = w.base
    routes: dict[str, Resource] = {}
    infos: list[PageInfo] = []
    texts: dict[str, list[str]] = {}
    weights = [o.weight for o in OUTLETS]
    numbers: Counter[str] = Counter()
    plan = []
    for _ in range(pages):
        o = rng.choices(OUTLETS, weights)[0]
        roll = rng.random()
        kind = ("missing" if roll < missing_share else "stub" if roll < missing_share + stub_share
                else "duplicate" if roll < missing_share + stub_share + duplicate_share else "article")
        plan.append((o, kind))
    # Titles, paths and dates first, so that related links point at real pages.
    for o, kind in plan:
        lang = LANGS[o.language]
        numbers[o.id] += 1
        number = numbers[o.id]
        relevant = kind in ("article", "duplicate") and rng.random() < relevant_share
        when = _START + timedelta(minutes=rng.randrange(_SPAN_DAYS * 24 * 60))
        local = when.astimezone(_offset(o.utc_offset))
        published = local.isoformat(timespec="seconds")
        if kind == "stub":
            title = lang.ui["video"] + f" {number}"
        else:
            title = w.fill(rng.choice(lang.rel_titles if relevant else lang.off_titles), lang, relevant)
        slug = _slug(title, lang, number)
        path = f"/{o.id}/{local:%Y/%m/%d}/{slug}.html"
        info = PageInfo(path=path, outlet=o.id, language=o.language, kind=kind, relevant=relevant,
                        published=published, title=title)
        infos.append(info)
        w.by_outlet.setdefault(o.id, []).append(info)
    by_id = {o.id: o for o in OUTLETS}
    ordered = sorted(infos, key=lambda p: p.published)  # a republication copies an earlier article
    earlier: dict[str, list[PageInfo]] = {}
    for info in ordered:
        o = by_id[info.outlet]
        lang = LANGS[o.language]
        peers = w.by_outlet[o.id]
        related = rng.sample(peers, k=min(len(peers), rng.randint(10, 30)))
        if info.kind == "missing":
            continue
        if info.kind == "stub":
            body = w.stub(o, info)
        else:
            originals = earlier.get(o.id, [])
            if info.kind == "duplicate" and originals:
                original = rng.choice(originals)
                info.relevant, info.duplicate_of, info.title = original.relevant, original.path, original.title
                paragraphs = [w.filler(lang)] + texts[original.path][1:]
            else:
                if info.kind == "duplicate":
                    info.kind = "article"  # nothing earlier to copy
                paragraphs = w.paragraphs(lang, info.relevant)
            texts[info.path] = paragraphs
            if info.kind == "article":
                earlier.setdefault(o.id, []).append(info)
            body = w.page(o, info, paragraphs, related)
        info.size = len(body)
        routes[info.path] = Resource(200, _content_type(o), body)

    # Discovery: per outlet a news sitemap index + sitemaps, and an RSS feed; a site-wide index.
    sitemap_files: list[str] = []
    for o in OUTLETS:
        mine = sorted(w.by_outlet.get(o.id, []), key=lambda p: p.published, reverse=True)
        files = []
        for k in range(0, len(mine), sitemap_size):
            chunk = mine[k : k + sitemap_size]
            path = f"/{o.id}/sitemap-news-{k // sitemap_size + 1}.xml"
            entries = "".join(
                f"<url><loc>{escape(base + p.path)}</loc><news:news><news:publication><news:name>{escape(o.name)}"
                f"</news:name><news:language>{o.language}</news:language></news:publication>"
                f"<news:publication_date>{p.published}</news:publication_date><news:title>{escape(p.title)}</news:title>"
                f"</news:news></url>\n"
                for p in chunk
            )
            xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                   'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + entries + "</urlset>\n")
            routes[path] = Resource(200, "application/xml; charset=utf-8", xml.encode("utf-8"))
            files.append(path)
        sitemap_files += files
        routes[f"/{o.id}/sitemap-index.xml"] = Resource(200, "application/xml; charset=utf-8", _index(base, files))
        utm = "?utm_source=rss&amp;utm_medium=feed" if o.id in UTM_FEEDS else ""
        items = "".join(
            f"<item><title>{escape(p.title)}</title><link>{escape(base + p.path)}{utm}</link>"
            f"<guid isPermaLink=\"true\">{escape(base + p.path)}</guid>"
            f"<pubDate>{datetime.fromisoformat(p.published).strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate></item>\n"
            for p in mine[:rss_items]
        )
        rss = (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{escape(o.name)}</title>'
               f"<link>{base}/{o.id}/</link><description>{escape(o.name)}</description>\n{items}</channel></rss>\n")
        routes[f"/{o.id}/rss.xml"] = Resource(200, "application/rss+xml; charset=utf-8", rss.encode("utf-8"))
    routes["/sitemap-index.xml"] = Resource(200, "application/xml; charset=utf-8", _index(base, sitemap_files))
    robots = ("User-agent: *\nDisallow: /search\nDisallow: /*/account/\nDisallow: /*/search\n\n"
              f"Sitemap: {base}/sitemap-index.xml\n")
    routes["/robots.txt"] = Resource(200, "text/plain; charset=utf-8", robots.encode())
    routes["/"] = Resource(200, "text/html; charset=utf-8", (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Benchmark news site</title></head><body><ul>"
        + "".join(f'<li><a href="/{o.id}/rss.xml">{escape(o.name)}</a></li>' for o in OUTLETS) + "</ul></body></html>"
    ).encode())
    return Site(base, routes, infos, OUTLETS, sitemap_files)


def _index(base: str, files: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{escape(base + f)}</loc></sitemap>\n" for f in files)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + entries + "</sitemapindex>\n").encode()


# --- serving -----------------------------------------------------------------------


class SiteServer:
    """Serves ``routes`` from memory on 127.0.0.1: ``threading`` (http.server) or ``asyncio``.

    Bind first (``base_url`` is known after ``bind()``), generate the site for
    that base URL, then ``start(routes)``. GET and HEAD, HTTP/1.1 keep-alive;
    the query string is ignored for routing; unknown paths are a 404.
    """

    def __init__(self, kind: str = "threading", host: str = "127.0.0.1", port: int = 0) -> None:
        if kind not in ("threading", "asyncio"):
            raise ValueError("server kind must be threading or asyncio")
        self.kind, self.host, self.port = kind, host, port
        self.routes: dict[str, Resource] = {}
        self.requests = 0
        self.bytes_sent = 0
        self._sock: socket.socket | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._sock = sock
        return self.base_url

    def lookup(self, target: str) -> Resource:
        self.requests += 1
        path = unquote(urlsplit(target).path or "/")
        res = self.routes.get(path)
        if res is None:
            return Resource(404, "text/html; charset=utf-8", NOT_FOUND)
        return res

    def start(self, routes: dict[str, Resource]) -> None:
        self.routes = routes
        if self._sock is None:
            self.bind()
        if self.kind == "threading":
            self._start_threading()
        else:
            self._start_asyncio()

    def _start_threading(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "BenchNews/1.0"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                self._respond(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._respond(False)

            def _respond(self, send_body: bool) -> None:
                res = server.lookup(self.path)
                self.send_response(res.status)
                self.send_header("Content-Type", res.content_type)
                self.send_header("Content-Length", str(len(res.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(res.body)
                    server.bytes_sent += len(res.body)

        httpd = ThreadingHTTPServer((self.host, self.port), Handler, bind_and_activate=False)
        assert self._sock is not None
        httpd.socket.close()
        httpd.socket = self._sock
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="bench-site", daemon=True)
        self._thread.start()

    def _start_asyncio(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    method, target, version = (lines[0].split(" ") + ["", "", ""])[:3]
                    close = version == "HTTP/1.0"
                    for line in lines[1:]:
                        name, _, value = line.partition(":")
                        if name.strip().lower() == "connection":
                            close = value.strip().lower() == "close"
                    res = self.lookup(target)
                    reason = {200: "OK", 404: "Not Found"}.get(res.status, "OK")
                    header = (f"HTTP/1.1 {res.status} {reason}\r\nServer: BenchNews/1.0\r\n"
                              f"Content-Type: {res.content_type}\r\nContent-Length: {len(res.body)}\r\n"
                              + ("Connection: close\r\n" if close else "") + "\r\n").encode("latin-1")
                    if method == "HEAD":
                        writer.write(header)
                    else:
                        writer.write(header + res.body)
                        self.bytes_sent += len(res.body)
                    await writer.drain()
                    if close:
                        break
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                pass
            finally:
                writer.close()

        def run() -> None:
            asyncio.set_event_loop(loop)
            assert self._sock is not None
            loop.run_until_complete(asyncio.start_server(handle, sock=self._sock, backlog=128))
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="bench-site", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(5)
            self._loop = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def serve_site(
    pages: int, *, server: str = "threading", port: int = 0, seed: int = 1, sitemap_size: int = 1000,
    log: Callable[[str], None] | None = None,
) -> tuple[SiteServer, Site]:
    """Bind, generate for the bound address, start serving; returns (server, site)."""
    srv = SiteServer(server, port=port)
    base = srv.bind()
    t0 = time.perf_counter()
    site = generate_site(base, pages, seed=seed, sitemap_size=sitemap_size)
    if log:
        log(f"generated {pages} pages in {time.perf_counter() - t0:.1f} s: {json.dumps(site.summary(), ensure_ascii=False)}")
    srv.start(site.routes)
    return srv, site


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=5000, help="article pages (default 5000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sitemap-size", type=int, default=1000, help="URLs per news sitemap (default 1000)")
    ap.add_argument("--server", choices=("threading", "asyncio"), default="threading")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--sources-out", type=Path, help="write a sources YAML for `reaim crawl --sources`")
    ap.add_argument("--info-out", type=Path, help="once serving, write base URL, summary and ground truth (JSON)")
    ap.add_argument("--write", type=Path, metavar="DIR", help="write the site's files under DIR instead of serving")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.write:
        base = f"http://127.0.0.1:{args.port or 8000}"
        site = generate_site(base, args.pages, seed=args.seed, sitemap_size=args.sitemap_size)
        for path, res in site.routes.items():
            dest = args.write / (path.lstrip("/") or "index.html")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(res.body)
        if args.sources_out:
            args.sources_out.write_text(site.sources_yaml(), encoding="utf-8")
        log(f"wrote {len(site.routes)} files under {args.write} for {base}: {json.dumps(site.summary(), ensure_ascii=False)}")
        return 0
    srv, site = serve_site(args.pages, server=args.server, port=args.port, seed=args.seed,
                           sitemap_size=args.sitemap_size, log=log)
    if args.sources_out:
        args.sources_out.write_text(site.sources_yaml(), encoding="utf-8")
        log(f"sources: {args.sources_out}")
    if args.info_out:
        info = {"base_url": site.base_url, "sitemap_index_url": site.sitemap_index_url, "server": args.server,
                "summary": site.summary(), "truth": site.truth()}
        partial = args.info_out.with_name(args.info_out.name + ".part")
        partial.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        partial.replace(args.info_out)  # appears complete or not at all
    log(f"serving on {srv.base_url} ({args.server}); sitemap index {site.sitemap_index_url}; Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
