/*
 * nen_names.c - the words of the domain: enum <-> string for classes, grades,
 * gastric types, stage groups, TNM categories, sites, extent findings and
 * metastasis sites. These strings are the summary/vector vocabulary
 * (tests/vectors/README.md); change them only together with that page.
 */
#include "nen_case.h"

#include <stdio.h>
#include <string.h>

static const char *const class_names[NEN_CLASS__COUNT] = {
    [NEN_CLASS_INDETERMINATE] = "indeterminate", [NEN_CLASS_NET] = "NET",
    [NEN_CLASS_NEC_SMALL] = "NEC-small-cell",    [NEN_CLASS_NEC_LARGE] = "NEC-large-cell",
    [NEN_CLASS_NEC] = "NEC",                     [NEN_CLASS_MINEN] = "MiNEN",
    [NEN_CLASS_TC] = "typical-carcinoid",        [NEN_CLASS_AC] = "atypical-carcinoid",
    [NEN_CLASS_CARCINOID_NOS] = "carcinoid-NOS", [NEN_CLASS_MTC] = "MTC",
    [NEN_CLASS_PITNET] = "PitNET",               [NEN_CLASS_PPGL] = "PPGL",
    [NEN_CLASS_MCC] = "MCC",
};

static const char *const grade_names[NEN_GRADE__COUNT] = {
    [NEN_GRADE_INDETERMINATE] = "indeterminate", [NEN_GRADE_G1] = "G1",
    [NEN_GRADE_G2] = "G2", [NEN_GRADE_G3] = "G3", [NEN_GRADE_LOW] = "low",
    [NEN_GRADE_HIGH] = "high", [NEN_GRADE_NOT_GRADED] = "not-graded",
};

static const char *const gtype_names[NEN_GTYPE__COUNT] = {
    [NEN_GTYPE_NOT_APPLICABLE] = "not-applicable", [NEN_GTYPE_1] = "1",
    [NEN_GTYPE_2] = "2", [NEN_GTYPE_3] = "3", [NEN_GTYPE_1_OR_2] = "1-or-2",
    [NEN_GTYPE_INDETERMINATE] = "indeterminate",
};

static const char *const stage_names[NEN_STAGE__COUNT] = {
    [NEN_STAGE_INDETERMINATE] = "indeterminate", [NEN_STAGE_NOT_STAGED] = "not-staged",
    [NEN_STAGE_OCCULT] = "occult", [NEN_STAGE_0] = "0",
    [NEN_STAGE_I] = "I", [NEN_STAGE_IA1] = "IA1", [NEN_STAGE_IA2] = "IA2",
    [NEN_STAGE_IA3] = "IA3", [NEN_STAGE_IB] = "IB", [NEN_STAGE_II] = "II",
    [NEN_STAGE_IIA] = "IIA", [NEN_STAGE_IIB] = "IIB", [NEN_STAGE_III] = "III",
    [NEN_STAGE_IIIA] = "IIIA", [NEN_STAGE_IIIB] = "IIIB", [NEN_STAGE_IIIC] = "IIIC",
    [NEN_STAGE_IV] = "IV", [NEN_STAGE_IVA] = "IVA", [NEN_STAGE_IVB] = "IVB",
};

static const char *const tnm_names[NEN_TNM__COUNT] = {
    [NEN_TNM_UNKNOWN] = "indeterminate",
    [NEN_T_X] = "TX", [NEN_T_0] = "T0", [NEN_T_IS] = "Tis", [NEN_T_1] = "T1",
    [NEN_T_1A] = "T1a", [NEN_T_1B] = "T1b", [NEN_T_1C] = "T1c", [NEN_T_2] = "T2",
    [NEN_T_2A] = "T2a", [NEN_T_2B] = "T2b", [NEN_T_3] = "T3", [NEN_T_4] = "T4",
    [NEN_N_X] = "NX", [NEN_N_0] = "N0", [NEN_N_1] = "N1", [NEN_N_2] = "N2",
    [NEN_N_2A] = "N2a", [NEN_N_2B] = "N2b", [NEN_N_3] = "N3",
    [NEN_M_0] = "M0", [NEN_M_1] = "M1", [NEN_M_1A] = "M1a", [NEN_M_1B] = "M1b",
    [NEN_M_1C] = "M1c", [NEN_M_1C1] = "M1c1", [NEN_M_1C2] = "M1c2",
};

static const char *const site_names[NEN_SITE__COUNT] = {
    [NEN_SITE_UNKNOWN] = "unknown", [NEN_SITE_STOMACH] = "stomach",
    [NEN_SITE_DUODENUM] = "duodenum", [NEN_SITE_AMPULLA] = "ampulla",
    [NEN_SITE_JEJUNUM_ILEUM] = "jejunum_ileum", [NEN_SITE_APPENDIX] = "appendix",
    [NEN_SITE_COLON] = "colon", [NEN_SITE_RECTUM] = "rectum",
    [NEN_SITE_PANCREAS] = "pancreas", [NEN_SITE_ESOPHAGUS] = "esophagus",
    [NEN_SITE_LIVER] = "liver", [NEN_SITE_GALLBLADDER] = "gallbladder",
    [NEN_SITE_BILE_DUCT] = "bile_duct", [NEN_SITE_LUNG] = "lung",
    [NEN_SITE_THYMUS] = "thymus", [NEN_SITE_UPPER_AERODIGESTIVE] = "upper_aerodigestive",
    [NEN_SITE_SALIVARY] = "salivary", [NEN_SITE_THYROID] = "thyroid",
    [NEN_SITE_PITUITARY] = "pituitary", [NEN_SITE_ADRENAL_PARAGANGLIA] = "adrenal_paraganglia",
    [NEN_SITE_SKIN] = "skin", [NEN_SITE_BREAST] = "breast", [NEN_SITE_GENITAL] = "genital",
    [NEN_SITE_URINARY] = "urinary", [NEN_SITE_OTHER] = "other",
};

/* Other words accepted for a site. */
static const struct { const char *word; enum nen_site site; } site_aliases[] = {
    {"jejunum", NEN_SITE_JEJUNUM_ILEUM}, {"ileum", NEN_SITE_JEJUNUM_ILEUM},
    {"larynx", NEN_SITE_UPPER_AERODIGESTIVE}, {"pharynx", NEN_SITE_UPPER_AERODIGESTIVE},
    {"nasal_cavity", NEN_SITE_UPPER_AERODIGESTIVE}, {"adrenal", NEN_SITE_ADRENAL_PARAGANGLIA},
    {"paraganglion", NEN_SITE_ADRENAL_PARAGANGLIA},
};

static const char *const extent_names[NEN_EXT__COUNT] = {
    [NEN_EXT_NONE] = "none", [NEN_EXT_LAMINA_PROPRIA] = "lamina_propria",
    [NEN_EXT_SUBMUCOSA] = "submucosa", [NEN_EXT_MUSCULARIS_PROPRIA] = "muscularis_propria",
    [NEN_EXT_SUBSEROSA] = "subserosa", [NEN_EXT_MESOAPPENDIX] = "mesoappendix",
    [NEN_EXT_SEROSA] = "serosa", [NEN_EXT_ADJACENT_ORGAN] = "adjacent_organ",
    [NEN_EXT_SPHINCTER_ODDI] = "sphincter_oddi",
    [NEN_EXT_PANCREAS_PERIPANCREATIC] = "pancreas_peripancreatic",
    [NEN_EXT_CONFINED_PANCREAS] = "confined_pancreas",
    [NEN_EXT_DUODENUM_AMPULLA_BILE_DUCT] = "duodenum_ampulla_bile_duct",
    [NEN_EXT_LARGE_VESSEL] = "large_vessel", [NEN_EXT_CONFINED_LUNG] = "confined_lung",
    [NEN_EXT_MAIN_BRONCHUS] = "main_bronchus", [NEN_EXT_VISCERAL_PLEURA] = "visceral_pleura",
    [NEN_EXT_ATELECTASIS_HILUM] = "atelectasis_hilum",
    [NEN_EXT_PARIETAL_PLEURA] = "parietal_pleura", [NEN_EXT_CHEST_WALL] = "chest_wall",
    [NEN_EXT_PHRENIC_NERVE] = "phrenic_nerve",
    [NEN_EXT_PARIETAL_PERICARDIUM] = "parietal_pericardium",
    [NEN_EXT_SAME_LOBE_NODULE] = "same_lobe_nodule", [NEN_EXT_DIAPHRAGM] = "diaphragm",
    [NEN_EXT_MEDIASTINUM] = "mediastinum", [NEN_EXT_HEART] = "heart",
    [NEN_EXT_GREAT_VESSELS] = "great_vessels", [NEN_EXT_TRACHEA] = "trachea",
    [NEN_EXT_RECURRENT_LARYNGEAL_NERVE] = "recurrent_laryngeal_nerve",
    [NEN_EXT_OESOPHAGUS] = "oesophagus", [NEN_EXT_VERTEBRAL_BODY] = "vertebral_body",
    [NEN_EXT_CARINA] = "carina", [NEN_EXT_IPSILATERAL_LOBE_NODULE] = "ipsilateral_lobe_nodule",
    [NEN_EXT_CONFINED_THYMUS] = "confined_thymus", [NEN_EXT_PERICARDIUM] = "pericardium",
    [NEN_EXT_LUNG] = "lung", [NEN_EXT_BRACHIOCEPHALIC_VEIN] = "brachiocephalic_vein",
    [NEN_EXT_SVC] = "svc",
    [NEN_EXT_EXTRAPERICARDIAL_PULMONARY_VESSEL] = "extrapericardial_pulmonary_vessel",
    [NEN_EXT_AORTA] = "aorta", [NEN_EXT_ARCH_VESSELS] = "arch_vessels",
    [NEN_EXT_INTRAPERICARDIAL_PULMONARY_ARTERY] = "intrapericardial_pulmonary_artery",
    [NEN_EXT_MYOCARDIUM] = "myocardium",
};

static const char *const met_names[NEN_MET__COUNT] = {
    [NEN_MET_NONE] = "none", [NEN_MET_LIVER] = "liver", [NEN_MET_LUNG] = "lung",
    [NEN_MET_PLEURA] = "pleura", [NEN_MET_PERICARDIUM] = "pericardium",
    [NEN_MET_BONE] = "bone", [NEN_MET_BRAIN] = "brain", [NEN_MET_PERITONEUM] = "peritoneum",
    [NEN_MET_OVARY] = "ovary", [NEN_MET_NONREGIONAL_NODE] = "nonregional_node",
    [NEN_MET_OTHER] = "other",
};

#define NAME_OF(table, v) \
    (((int)(v) >= 0 && (int)(v) < (int)(sizeof table / sizeof table[0])) ? table[v] : NULL)

const char *nen_class_name(enum nen_class v) { return NAME_OF(class_names, v); }
const char *nen_grade_name(enum nen_grade v) { return NAME_OF(grade_names, v); }
const char *nen_gtype_name(enum nen_gtype v) { return NAME_OF(gtype_names, v); }
const char *nen_stage_name(enum nen_stage v) { return NAME_OF(stage_names, v); }
const char *nen_tnm_name(enum nen_tnm v) { return NAME_OF(tnm_names, v); }
const char *nen_site_name(enum nen_site v) { return NAME_OF(site_names, v); }
const char *nen_extent_name(enum nen_extent v) { return NAME_OF(extent_names, v); }
const char *nen_met_name(enum nen_met_site v) { return NAME_OF(met_names, v); }

const char *nen_status_name(enum nen_status v)
{
    return v == NEN_STATUS_FINAL ? "final" : "preliminary";
}

/* Index of s in table[first..n), or -1. */
static int find_word(const char *const *table, int first, int n, const char *s)
{
    for (int i = first; i < n; i++)
        if (table[i] && strcmp(table[i], s) == 0)
            return i;
    return -1;
}

int nen_class_parse(const char *s) { return find_word(class_names, 0, NEN_CLASS__COUNT, s); }
int nen_grade_parse(const char *s) { return find_word(grade_names, 0, NEN_GRADE__COUNT, s); }
int nen_gtype_parse(const char *s) { return find_word(gtype_names, 0, NEN_GTYPE__COUNT, s); }
int nen_stage_parse(const char *s) { return find_word(stage_names, 0, NEN_STAGE__COUNT, s); }
int nen_tnm_parse(const char *s) { return find_word(tnm_names, 1, NEN_TNM__COUNT, s); }
int nen_extent_parse(const char *s) { return find_word(extent_names, 1, NEN_EXT__COUNT, s); }
int nen_met_parse(const char *s) { return find_word(met_names, 1, NEN_MET__COUNT, s); }

int nen_site_parse(const char *s)
{
    int v = find_word(site_names, 1, NEN_SITE__COUNT, s);
    for (size_t i = 0; v < 0 && i < sizeof site_aliases / sizeof site_aliases[0]; i++)
        if (strcmp(site_aliases[i].word, s) == 0)
            v = (int)site_aliases[i].site;
    return v;
}

const char *nen_tnm_result_text(const struct nen_tnm_result *x, char *buf, unsigned len)
{
    if (x->value == NEN_TNM_UNKNOWN)
        snprintf(buf, len, "indeterminate");
    else
        snprintf(buf, len, "%s%s", nen_tnm_name(x->value), x->multiple ? "(m)" : "");
    return buf;
}
