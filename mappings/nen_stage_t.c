/*
 * nen_stage_t.c - the primary tumour (T) category, AJCC 9th: GEP-NET (CACA
 * 2025 Table 8), lung (Table 10) and thymus (Table 12). Two data tables per
 * site: greatest dimension -> T, and each extent finding -> the lowest T it
 * allows. T is the highest of the two; when size or extent is not reported the
 * result is the set of every T the missing input could give.
 */
#include "nen_rules.h"

#include <stddef.h>

#include <string.h>

#define S(x) NEN_SITE_BIT(NEN_SITE_##x)
#define STOM_DUOD_JI (S(STOMACH) | S(DUODENUM) | S(JEJUNUM_ILEUM))
#define CR (S(COLON) | S(RECTUM))
#define NO_LIMIT 1e9

/* Greatest dimension (mm, upper bound inclusive) -> T. */
struct t_size_row {
    unsigned sites;
    double max_mm;
    enum nen_tnm t;
    const char *src;
};

static const struct t_size_row size_rows[] = {
    {STOM_DUOD_JI, 10, NEN_T_1, "Table 8 T1: <= 1 cm (stomach, duodenum, jejunum/ileum)"},
    {STOM_DUOD_JI, NO_LIMIT, NEN_T_2, "Table 8 T2: > 1 cm (stomach, duodenum, jejunum/ileum)"},
    {S(AMPULLA), 10, NEN_T_1, "Table 8 T1: <= 1 cm (ampulla)"},
    {S(AMPULLA), NO_LIMIT, NEN_T_2, "Table 8 T2: > 1 cm (ampulla)"},
    {S(APPENDIX), 20, NEN_T_1, "Table 8 T1: <= 2 cm (appendix)"},
    {S(APPENDIX), 40, NEN_T_2, "Table 8 T2: > 2 cm and <= 4 cm (appendix)"},
    {S(APPENDIX), NO_LIMIT, NEN_T_3, "Table 8 T3: > 4 cm (appendix)"},
    {CR, 10, NEN_T_1A, "Table 8 T1a: <= 1 cm (colon, rectum)"},
    {CR, 20, NEN_T_1B, "Table 8 T1b: > 1 cm and <= 2 cm (colon, rectum)"},
    {CR, NO_LIMIT, NEN_T_2, "Table 8 T2: > 2 cm (colon, rectum)"},
    {S(PANCREAS), 20, NEN_T_1, "Table 8 T1: <= 2 cm (pancreas)"},
    {S(PANCREAS), 40, NEN_T_2, "Table 8 T2: > 2 cm and <= 4 cm (pancreas)"},
    {S(PANCREAS), NO_LIMIT, NEN_T_3, "Table 8 T3: > 4 cm (pancreas)"},
    {S(LUNG), 10, NEN_T_1A, "Table 10 T1a: <= 1 cm"},
    {S(LUNG), 20, NEN_T_1B, "Table 10 T1b: > 1 cm and <= 2 cm"},
    {S(LUNG), 30, NEN_T_1C, "Table 10 T1c: > 2 cm and <= 3 cm"},
    {S(LUNG), 40, NEN_T_2A, "Table 10 T2a: > 3 cm and <= 4 cm"},
    {S(LUNG), 50, NEN_T_2B, "Table 10 T2b: > 4 cm and <= 5 cm"},
    {S(LUNG), 70, NEN_T_3, "Table 10 T3: > 5 cm and <= 7 cm"},
    {S(LUNG), NO_LIMIT, NEN_T_4, "Table 10 T4: > 7 cm"},
    {S(THYMUS), 50, NEN_T_1A, "Table 12 T1a: <= 5 cm"},
    {S(THYMUS), NO_LIMIT, NEN_T_1B, "Table 12 T1b: > 5 cm"},
};

/* Extent finding -> the lowest T it allows at that site. */
struct t_ext_row {
    unsigned sites;
    enum nen_extent ext;
    enum nen_tnm floor;
    const char *src;
};

static const struct t_ext_row ext_rows[] = {
    /* Table 8, stomach / duodenum / jejunum-ileum */
    {STOM_DUOD_JI, NEN_EXT_LAMINA_PROPRIA, NEN_T_1, "Table 8 T1: lamina propria (size decides)"},
    {STOM_DUOD_JI, NEN_EXT_SUBMUCOSA, NEN_T_1, "Table 8 T1: submucosa (size decides)"},
    {STOM_DUOD_JI, NEN_EXT_MUSCULARIS_PROPRIA, NEN_T_2, "Table 8 T2: muscularis propria"},
    {S(STOMACH) | S(JEJUNUM_ILEUM), NEN_EXT_SUBSEROSA, NEN_T_3,
     "Table 8 T3: through muscularis propria into subserosa"},
    {S(DUODENUM), NEN_EXT_PANCREAS_PERIPANCREATIC, NEN_T_3,
     "Table 8 T3 (duodenum): pancreas or peripancreatic fat"},
    {STOM_DUOD_JI, NEN_EXT_SEROSA, NEN_T_4, "Table 8 T4: visceral peritoneum (serosa)"},
    {STOM_DUOD_JI, NEN_EXT_ADJACENT_ORGAN, NEN_T_4, "Table 8 T4: other organs"},
    /* Table 8, ampulla */
    {S(AMPULLA), NEN_EXT_SPHINCTER_ODDI, NEN_T_1,
     "Table 8 T1 (ampulla): confined to sphincter of Oddi (size decides)"},
    {S(AMPULLA), NEN_EXT_SUBMUCOSA, NEN_T_2, "Table 8 T2 (ampulla): duodenal submucosa"},
    {S(AMPULLA), NEN_EXT_MUSCULARIS_PROPRIA, NEN_T_2,
     "Table 8 T2 (ampulla): duodenal muscularis propria"},
    {S(AMPULLA), NEN_EXT_PANCREAS_PERIPANCREATIC, NEN_T_3,
     "Table 8 T3 (ampulla): pancreas or peripancreatic fat"},
    {S(AMPULLA), NEN_EXT_SEROSA, NEN_T_4, "Table 8 T4: visceral peritoneum"},
    {S(AMPULLA), NEN_EXT_ADJACENT_ORGAN, NEN_T_4, "Table 8 T4: other organs"},
    /* Table 8, appendix: layers up to muscularis propria leave T to size */
    {S(APPENDIX), NEN_EXT_LAMINA_PROPRIA, NEN_T_1, "Table 8 (appendix): size decides"},
    {S(APPENDIX), NEN_EXT_SUBMUCOSA, NEN_T_1, "Table 8 (appendix): size decides"},
    {S(APPENDIX), NEN_EXT_MUSCULARIS_PROPRIA, NEN_T_1, "Table 8 (appendix): size decides"},
    {S(APPENDIX), NEN_EXT_SUBSEROSA, NEN_T_3, "Table 8 T3 (appendix): subserosa"},
    {S(APPENDIX), NEN_EXT_MESOAPPENDIX, NEN_T_3, "Table 8 T3 (appendix): mesoappendix"},
    {S(APPENDIX), NEN_EXT_SEROSA, NEN_T_4, "Table 8 T4 (appendix): perforates the peritoneum"},
    {S(APPENDIX), NEN_EXT_ADJACENT_ORGAN, NEN_T_4, "Table 8 T4 (appendix): other organs"},
    /* Table 8, colon and rectum */
    {CR, NEN_EXT_LAMINA_PROPRIA, NEN_T_1A, "Table 8 T1 (colorectal): lamina propria (size decides)"},
    {CR, NEN_EXT_SUBMUCOSA, NEN_T_1A, "Table 8 T1 (colorectal): submucosa (size decides)"},
    {CR, NEN_EXT_MUSCULARIS_PROPRIA, NEN_T_2, "Table 8 T2 (colorectal): muscularis propria"},
    {CR, NEN_EXT_SUBSEROSA, NEN_T_3, "Table 8 T3 (colorectal): into subserosa"},
    {CR, NEN_EXT_SEROSA, NEN_T_4, "Table 8 T4: visceral peritoneum"},
    {CR, NEN_EXT_ADJACENT_ORGAN, NEN_T_4, "Table 8 T4: other organs"},
    /* Table 8, pancreas */
    {S(PANCREAS), NEN_EXT_CONFINED_PANCREAS, NEN_T_1,
     "Table 8 (pancreas): limited to the pancreas (size decides)"},
    {S(PANCREAS), NEN_EXT_DUODENUM_AMPULLA_BILE_DUCT, NEN_T_3,
     "Table 8 T3 (pancreas): invades duodenum, ampulla or bile duct"},
    {S(PANCREAS), NEN_EXT_ADJACENT_ORGAN, NEN_T_4,
     "Table 8 T4 (pancreas): stomach, spleen, colon or adrenal"},
    {S(PANCREAS), NEN_EXT_LARGE_VESSEL, NEN_T_4, "Table 8 T4 (pancreas): large vessel wall"},
    /* Table 10, lung */
    {S(LUNG), NEN_EXT_CONFINED_LUNG, NEN_T_1A, "Table 10 T1: surrounded by lung (size decides)"},
    {S(LUNG), NEN_EXT_MAIN_BRONCHUS, NEN_T_2A, "Table 10 T2: main bronchus"},
    {S(LUNG), NEN_EXT_VISCERAL_PLEURA, NEN_T_2A, "Table 10 T2: visceral pleura (PL1/PL2)"},
    {S(LUNG), NEN_EXT_ATELECTASIS_HILUM, NEN_T_2A,
     "Table 10 T2: atelectasis/obstructive pneumonitis to the hilum"},
    {S(LUNG), NEN_EXT_PARIETAL_PLEURA, NEN_T_3, "Table 10 T3: parietal pleura (PL3)"},
    {S(LUNG), NEN_EXT_CHEST_WALL, NEN_T_3, "Table 10 T3: chest wall"},
    {S(LUNG), NEN_EXT_PHRENIC_NERVE, NEN_T_3, "Table 10 T3: phrenic nerve"},
    {S(LUNG), NEN_EXT_PARIETAL_PERICARDIUM, NEN_T_3, "Table 10 T3: parietal pericardium"},
    {S(LUNG), NEN_EXT_SAME_LOBE_NODULE, NEN_T_3, "Table 10 T3: nodule(s) in the same lobe"},
    {S(LUNG), NEN_EXT_DIAPHRAGM, NEN_T_4, "Table 10 T4: diaphragm"},
    {S(LUNG), NEN_EXT_MEDIASTINUM, NEN_T_4, "Table 10 T4: mediastinum"},
    {S(LUNG), NEN_EXT_HEART, NEN_T_4, "Table 10 T4: heart"},
    {S(LUNG), NEN_EXT_GREAT_VESSELS, NEN_T_4, "Table 10 T4: great vessels"},
    {S(LUNG), NEN_EXT_TRACHEA, NEN_T_4, "Table 10 T4: trachea"},
    {S(LUNG), NEN_EXT_RECURRENT_LARYNGEAL_NERVE, NEN_T_4,
     "Table 10 T4: recurrent laryngeal nerve"},
    {S(LUNG), NEN_EXT_OESOPHAGUS, NEN_T_4, "Table 10 T4: oesophagus"},
    {S(LUNG), NEN_EXT_VERTEBRAL_BODY, NEN_T_4, "Table 10 T4: vertebral body"},
    {S(LUNG), NEN_EXT_CARINA, NEN_T_4, "Table 10 T4: carina"},
    {S(LUNG), NEN_EXT_IPSILATERAL_LOBE_NODULE, NEN_T_4,
     "Table 10 T4: nodule(s) in another ipsilateral lobe"},
    /* Table 12, thymus */
    {S(THYMUS), NEN_EXT_CONFINED_THYMUS, NEN_T_1A,
     "Table 12 T1: thymus/perithymic fat, mediastinal pleura (size decides)"},
    {S(THYMUS), NEN_EXT_PERICARDIUM, NEN_T_2, "Table 12 T2: pericardium"},
    {S(THYMUS), NEN_EXT_LUNG, NEN_T_2, "Table 12 T2: lung"},
    {S(THYMUS), NEN_EXT_PHRENIC_NERVE, NEN_T_2, "Table 12 T2: phrenic nerve"},
    {S(THYMUS), NEN_EXT_BRACHIOCEPHALIC_VEIN, NEN_T_3, "Table 12 T3: brachiocephalic vein"},
    {S(THYMUS), NEN_EXT_SVC, NEN_T_3, "Table 12 T3: superior vena cava"},
    {S(THYMUS), NEN_EXT_CHEST_WALL, NEN_T_3, "Table 12 T3: chest wall"},
    {S(THYMUS), NEN_EXT_EXTRAPERICARDIAL_PULMONARY_VESSEL, NEN_T_3,
     "Table 12 T3: extrapericardial pulmonary artery or vein"},
    {S(THYMUS), NEN_EXT_AORTA, NEN_T_4, "Table 12 T4: aorta"},
    {S(THYMUS), NEN_EXT_ARCH_VESSELS, NEN_T_4, "Table 12 T4: arch vessels"},
    {S(THYMUS), NEN_EXT_INTRAPERICARDIAL_PULMONARY_ARTERY, NEN_T_4,
     "Table 12 T4: intrapericardial pulmonary artery"},
    {S(THYMUS), NEN_EXT_MYOCARDIUM, NEN_T_4, "Table 12 T4: myocardium"},
    {S(THYMUS), NEN_EXT_TRACHEA, NEN_T_4, "Table 12 T4: trachea"},
    {S(THYMUS), NEN_EXT_OESOPHAGUS, NEN_T_4, "Table 12 T4: oesophagus"},
};

#define N_SIZE (sizeof size_rows / sizeof size_rows[0])
#define N_EXT (sizeof ext_rows / sizeof ext_rows[0])

static const struct t_size_row *size_row(enum nen_site s, double mm)
{
    for (size_t i = 0; i < N_SIZE; i++)
        if ((size_rows[i].sites & NEN_SITE_BIT(s)) && mm <= size_rows[i].max_mm)
            return &size_rows[i];
    return NULL;
}

static const struct t_ext_row *ext_row(enum nen_site s, enum nen_extent e)
{
    for (size_t i = 0; i < N_EXT; i++)
        if ((ext_rows[i].sites & NEN_SITE_BIT(s)) && ext_rows[i].ext == e)
            return &ext_rows[i];
    return NULL;
}

/* The T of one size row and one extent floor: the higher of the two. */
static enum nen_tnm t_max(enum nen_tnm a, enum nen_tnm b)
{
    return a > b ? a : b;
}

/* The size rows the inputs allow: the one of the reported size, or all of them. */
static uint64_t size_set(const struct nen_case *c)
{
    const struct t_size_row *sr = c->size_mm.known ? size_row(c->site, c->size_mm.value) : NULL;
    if (sr)
        return NEN_TNM_BIT(sr->t);
    uint64_t sizes = 0;
    for (size_t i = 0; i < N_SIZE; i++)
        if (size_rows[i].sites & NEN_SITE_BIT(c->site))
            sizes |= NEN_TNM_BIT(size_rows[i].t);
    return sizes;
}

/* Every extent floor of the site (extent not reported). */
static uint64_t all_floors(enum nen_site s)
{
    uint64_t floors = 0;
    for (size_t i = 0; i < N_EXT; i++)
        if (ext_rows[i].sites & NEN_SITE_BIT(s))
            floors |= NEN_TNM_BIT(ext_rows[i].floor);
    return floors;
}

/* The T of every (size, extent floor) pair: the higher of the two. */
static uint64_t pair_max(uint64_t sizes, uint64_t floors)
{
    uint64_t cand = 0;
    for (int s = 0; s < NEN_TNM__COUNT; s++)
        for (int f = 0; (sizes & NEN_TNM_BIT(s)) && f < NEN_TNM__COUNT; f++)
            if (floors & NEN_TNM_BIT(f))
                cand |= NEN_TNM_BIT(t_max((enum nen_tnm)s, (enum nen_tnm)f));
    return cand;
}

uint64_t nen_stage_t_size_only(const struct nen_case *c)
{
    return pair_max(size_set(c), all_floors(c->site));
}

/* The highest T floor of the reported extent findings (traced), or UNKNOWN when
 * none is reported; findings that are no criterion of the site are ignored. */
static enum nen_tnm extent_floor(const struct nen_case *c, struct nen_result *r)
{
    enum nen_tnm floor = NEN_TNM_UNKNOWN;
    for (int e = 1; e < NEN_EXT__COUNT; e++) {
        if (!(c->extent & (1ULL << e)))
            continue;
        const struct t_ext_row *er = ext_row(c->site, (enum nen_extent)e);
        if (!er) {
            nen_warn(r, "extent-not-for-site",
                     "extent finding '%s' is no T criterion for %s: ignored",
                     nen_extent_name((enum nen_extent)e), nen_site_name(c->site));
            continue;
        }
        nen_trace_add(&r->t.trace, er->src, "extent: %s", nen_extent_name((enum nen_extent)e));
        floor = t_max(floor, er->floor);
    }
    return floor;
}

/* Does the varying input split T for some value of the fixed one? */
static int splits(uint64_t fixed, uint64_t varying)
{
    for (int i = 0; i < NEN_TNM__COUNT; i++)
        if ((fixed & NEN_TNM_BIT(i)) && nen_tnm_count(pair_max(NEN_TNM_BIT(i), varying)) > 1)
            return 1;
    return 0;
}

void nen_stage_t(const struct nen_case *c, struct nen_result *r)
{
    char a[24], set[96];
    struct nen_trace *tr = &r->t.trace;
    const struct t_size_row *sr = c->size_mm.known ? size_row(c->site, c->size_mm.value) : NULL;
    if (sr)
        nen_trace_add(tr, sr->src, "greatest dimension %s mm",
                      nen_fmt_num(c->size_mm.value, a, sizeof a));
    uint64_t sizes = size_set(c);
    enum nen_tnm floor = extent_floor(c, r);
    uint64_t floors = floor != NEN_TNM_UNKNOWN ? NEN_TNM_BIT(floor) : all_floors(c->site);
    uint64_t cand = pair_max(sizes, floors);

    r->t.value = nen_tnm_single(cand);
    r->t.candidates = r->t.value == NEN_TNM_UNKNOWN ? cand : 0;
    r->t.multiple = c->tumour_count.known && c->tumour_count.value > 1;
    if (r->t.value != NEN_TNM_UNKNOWN) {
        nen_trace_add(tr, "AJCC 9th: the higher of size and extent", "T = %s%s",
                      nen_tnm_name(r->t.value), r->t.multiple ? "(m): multiple tumours, "
                                                                "the largest decides" : "");
        return;
    }
    nen_tnm_set_text(cand, set, sizeof set);
    nen_trace_add(tr, "CACA 2025 Tables 8, 10, 12: T from size and extent",
                  "%s%s%s: T is one of %s", c->size_mm.known ? "" : "size not reported",
                  !c->size_mm.known && floor == NEN_TNM_UNKNOWN ? ", " : "",
                  floor == NEN_TNM_UNKNOWN ? "depth/extent not reported" : "", set);
    if (splits(floors, sizes))
        nen_missing(r, "size");
    if (splits(sizes, floors))
        nen_missing(r, "depth");
}
