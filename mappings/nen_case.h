/*
 * nen_case.h - the NEN domain: one tumour's inputs (struct nen_case) and the
 * computed result (struct nen_result) with its rule trace.
 *
 * This is "the case header" of design.md: the rule files (nen_grade*.c,
 * nen_gtype.c, nen_stage*.c) include only this header and libc. It owns no
 * memory: both structs are plain values with fixed-size buffers, so the rules
 * never allocate and cannot fail for lack of memory.
 *
 * Every input has an explicit "unknown" (value 0 of each enum, .known == 0 for
 * numbers, 0 for bit sets). Unknown never means zero or "none": a result that
 * needs it is indeterminate and names it in nen_result.missing.
 *
 * Sources: ../shared/spec/clinical-rules.md and the seed guideline
 * (CACA 2025 Tables 3, 7-13; WHO 2019/2022).
 */
#ifndef NEN_CASE_H
#define NEN_CASE_H

#include <stdint.h>

/* ---------- inputs ---------- */

/* A number that may be missing. */
struct nen_num {
    int known;      /* 0: not reported */
    double value;
};

/* yes / no / not reported */
enum nen_tri { NEN_TRI_UNKNOWN = 0, NEN_TRI_NO, NEN_TRI_YES };

enum nen_site {
    NEN_SITE_UNKNOWN = 0,
    /* GEP-NET sites staged by AJCC 9th Tables 8-9 */
    NEN_SITE_STOMACH, NEN_SITE_DUODENUM, NEN_SITE_AMPULLA, NEN_SITE_JEJUNUM_ILEUM,
    NEN_SITE_APPENDIX, NEN_SITE_COLON, NEN_SITE_RECTUM, NEN_SITE_PANCREAS,
    /* digestive / hepatobiliary, graded as GEP, not staged here */
    NEN_SITE_ESOPHAGUS, NEN_SITE_LIVER, NEN_SITE_GALLBLADDER, NEN_SITE_BILE_DUCT,
    /* thorax */
    NEN_SITE_LUNG, NEN_SITE_THYMUS,
    /* upper aerodigestive tract and salivary glands */
    NEN_SITE_UPPER_AERODIGESTIVE, NEN_SITE_SALIVARY,
    /* own systems */
    NEN_SITE_THYROID, NEN_SITE_PITUITARY, NEN_SITE_ADRENAL_PARAGANGLIA, NEN_SITE_SKIN,
    NEN_SITE_BREAST,
    /* other sites graded by the GEP default (CACA 2025 Table 3 note) */
    NEN_SITE_GENITAL, NEN_SITE_URINARY, NEN_SITE_OTHER,
    NEN_SITE__COUNT
};

enum nen_specimen { NEN_SPECIMEN_UNKNOWN = 0, NEN_SPECIMEN_RESECTION, NEN_SPECIMEN_BIOPSY };

enum nen_mitoses_unit { NEN_MIT_UNIT_UNKNOWN = 0, NEN_MIT_PER_2MM2, NEN_MIT_PER_10HPF };

enum nen_necrosis {
    NEN_NECROSIS_UNKNOWN = 0, NEN_NECROSIS_NONE, NEN_NECROSIS_PUNCTATE,
    NEN_NECROSIS_EXTENSIVE, NEN_NECROSIS_PRESENT /* present, extent not stated */
};

enum nen_diff {
    NEN_DIFF_UNKNOWN = 0,
    NEN_DIFF_WELL,        /* well differentiated NET / carcinoid morphology */
    NEN_DIFF_SMALL_CELL,  /* poorly differentiated, small cell */
    NEN_DIFF_LARGE_CELL,  /* poorly differentiated, large cell */
    NEN_DIFF_POOR         /* poorly differentiated, cell type not stated (NEC NOS) */
};

/* Extent of the primary (depth of invasion and invaded structures). A case
 * holds a set of these as bits (1ULL << value). Which ones count for which site
 * is data: nen_stage_t.c. */
enum nen_extent {
    NEN_EXT_NONE = 0, /* not a finding; bit 0 unused */
    /* gastro-entero-pancreatic layers (Table 8) */
    NEN_EXT_LAMINA_PROPRIA, NEN_EXT_SUBMUCOSA, NEN_EXT_MUSCULARIS_PROPRIA,
    NEN_EXT_SUBSEROSA, NEN_EXT_MESOAPPENDIX, NEN_EXT_SEROSA /* visceral peritoneum */,
    NEN_EXT_ADJACENT_ORGAN, NEN_EXT_SPHINCTER_ODDI /* ampulla: confined to it */,
    NEN_EXT_PANCREAS_PERIPANCREATIC /* duodenum/ampulla: invades pancreas or fat */,
    NEN_EXT_CONFINED_PANCREAS, NEN_EXT_DUODENUM_AMPULLA_BILE_DUCT,
    NEN_EXT_LARGE_VESSEL /* pancreas: coeliac axis, SMA/SMV, splenic, GDA, portal */,
    /* lung (Table 10) */
    NEN_EXT_CONFINED_LUNG /* surrounded by lung / visceral pleura, not proximal to lobar bronchus */,
    NEN_EXT_MAIN_BRONCHUS, NEN_EXT_VISCERAL_PLEURA, NEN_EXT_ATELECTASIS_HILUM,
    NEN_EXT_PARIETAL_PLEURA, NEN_EXT_CHEST_WALL, NEN_EXT_PHRENIC_NERVE,
    NEN_EXT_PARIETAL_PERICARDIUM, NEN_EXT_SAME_LOBE_NODULE, NEN_EXT_DIAPHRAGM,
    NEN_EXT_MEDIASTINUM, NEN_EXT_HEART, NEN_EXT_GREAT_VESSELS, NEN_EXT_TRACHEA,
    NEN_EXT_RECURRENT_LARYNGEAL_NERVE, NEN_EXT_OESOPHAGUS, NEN_EXT_VERTEBRAL_BODY,
    NEN_EXT_CARINA, NEN_EXT_IPSILATERAL_LOBE_NODULE,
    /* thymus (Table 12) */
    NEN_EXT_CONFINED_THYMUS /* thymus / perithymic fat, may invade mediastinal pleura */,
    NEN_EXT_PERICARDIUM, NEN_EXT_LUNG, NEN_EXT_BRACHIOCEPHALIC_VEIN, NEN_EXT_SVC,
    NEN_EXT_EXTRAPERICARDIAL_PULMONARY_VESSEL, NEN_EXT_AORTA, NEN_EXT_ARCH_VESSELS,
    NEN_EXT_INTRAPERICARDIAL_PULMONARY_ARTERY, NEN_EXT_MYOCARDIUM,
    NEN_EXT__COUNT
};

/* Distant metastasis sites, as bits (1u << value). */
enum nen_met_site {
    NEN_MET_NONE = 0, /* bit 0 unused */
    NEN_MET_LIVER, NEN_MET_LUNG /* lung parenchyma; for a lung primary: contralateral lobe */,
    NEN_MET_PLEURA /* pleural nodules or malignant effusion */,
    NEN_MET_PERICARDIUM /* pericardial nodules or malignant effusion */,
    NEN_MET_BONE, NEN_MET_BRAIN, NEN_MET_PERITONEUM, NEN_MET_OVARY,
    NEN_MET_NONREGIONAL_NODE, NEN_MET_OTHER,
    NEN_MET__COUNT
};

enum nen_met_status { NEN_METS_UNKNOWN = 0, NEN_METS_NONE, NEN_METS_PRESENT };

enum nen_acid {
    NEN_ACID_UNKNOWN = 0,
    NEN_ACID_LOW,    /* hypo- or achlorhydria, gastric pH high */
    NEN_ACID_HIGH,   /* hyperacidity, gastric pH low */
    NEN_ACID_NORMAL
};

enum nen_gastrin_status { NEN_GASTRIN_UNKNOWN = 0, NEN_GASTRIN_NORMAL, NEN_GASTRIN_HIGH };

enum nen_gastric_region {
    NEN_GREGION_UNKNOWN = 0, NEN_GREGION_BODY_FUNDUS, NEN_GREGION_ANTRUM, NEN_GREGION_CARDIA
};

enum nen_ihc { NEN_IHC_UNKNOWN = 0, NEN_IHC_NEGATIVE, NEN_IHC_POSITIVE };

/* Resection margin (R classification). */
enum nen_margin { NEN_MARGIN_UNKNOWN = 0, NEN_MARGIN_R0, NEN_MARGIN_R1, NEN_MARGIN_R2 };

/* AJCC categories. One enum for T, N and M keeps candidate sets simple: a set
 * is a bit mask of (1ULL << category). Order within T, N and M is severity. */
enum nen_tnm {
    NEN_TNM_UNKNOWN = 0,
    NEN_T_X, NEN_T_0, NEN_T_IS,
    NEN_T_1, NEN_T_1A, NEN_T_1B, NEN_T_1C,
    NEN_T_2, NEN_T_2A, NEN_T_2B, NEN_T_3, NEN_T_4,
    NEN_N_X, NEN_N_0, NEN_N_1, NEN_N_2, NEN_N_2A, NEN_N_2B, NEN_N_3,
    NEN_M_0, NEN_M_1, NEN_M_1A, NEN_M_1B, NEN_M_1C, NEN_M_1C1, NEN_M_1C2,
    NEN_TNM__COUNT
};

#define NEN_NONREG_TEXT 48

struct nen_case {
    enum nen_site site;
    enum nen_specimen specimen;

    /* proliferation and morphology */
    struct nen_num ki67;           /* %, hotspot */
    struct nen_num mitoses;        /* count in the unit below */
    enum nen_mitoses_unit mitoses_unit;
    struct nen_num hpf_area_mm2;   /* area of one high-power field, for /10 HPF */
    enum nen_necrosis necrosis;
    enum nen_diff diff;

    /* mixed tumours: percentages of the whole tumour */
    struct nen_num ne_pct;         /* neuroendocrine component */
    struct nen_num non_ne_pct;     /* non-neuroendocrine component; unknown = none reported */
    char non_ne_kind[NEN_NONREG_TEXT]; /* e.g. "adenocarcinoma"; "" if not stated */

    /* primary tumour */
    struct nen_num size_mm;        /* greatest dimension of the largest tumour */
    struct nen_num tumour_count;   /* number of tumours; > 1 marks T with (m) */
    uint64_t extent;               /* set of 1ULL << enum nen_extent; 0 = not reported */

    /* regional nodes */
    struct nen_num nodes_examined;
    struct nen_num nodes_positive;
    enum nen_tri mesenteric_mass;  /* jejunum/ileum: mass > 2 cm and/or extensive deposits */

    /* distant metastasis */
    enum nen_met_status mets;
    uint32_t met_sites;            /* set of 1u << enum nen_met_site when mets == PRESENT */
    struct nen_num met_lesions;    /* lung: number of extrathoracic lesions */

    /* categories provided by the lab (pT, pN, pM); NEN_TNM_UNKNOWN if not sent */
    enum nen_tnm t_given, n_given, m_given;

    /* gastric NET work-up */
    struct nen_num gastrin;        /* serum gastrin, any unit */
    struct nen_num gastrin_uln;    /* upper reference limit, same unit */
    enum nen_gastrin_status gastrin_status; /* when only "high/normal" is reported */
    struct nen_num gastric_ph;
    enum nen_acid acid;
    enum nen_tri atrophic_gastritis;
    enum nen_tri parietal_antibodies;  /* parietal-cell or intrinsic-factor antibodies */
    enum nen_tri gastrinoma;           /* gastrinoma, Zollinger-Ellison or MEN1 */
    enum nen_gastric_region gastric_region;

    /* not-graded groups */
    enum nen_ihc pit1, tpit, sf1;  /* pituitary lineage */
    enum nen_tri sdhb_loss;        /* PPGL */

    /* resection and adverse features (CACA 2025 §3.1.5 report contents; used by the
     * guideline advice of §7 and §4.1) */
    enum nen_margin margin;        /* resection margin R0 / R1 / R2 */
    enum nen_tri lvi;              /* lymphovascular invasion */
    enum nen_tri pni;              /* perineural invasion */
};

/* ---------- results ---------- */

enum nen_class {
    NEN_CLASS_INDETERMINATE = 0,
    NEN_CLASS_NET, NEN_CLASS_NEC_SMALL, NEN_CLASS_NEC_LARGE, NEN_CLASS_NEC,
    NEN_CLASS_MINEN, NEN_CLASS_TC, NEN_CLASS_AC, NEN_CLASS_CARCINOID_NOS,
    NEN_CLASS_MTC, NEN_CLASS_PITNET, NEN_CLASS_PPGL, NEN_CLASS_MCC,
    NEN_CLASS__COUNT
};

enum nen_grade {
    NEN_GRADE_INDETERMINATE = 0,
    NEN_GRADE_G1, NEN_GRADE_G2, NEN_GRADE_G3, NEN_GRADE_LOW, NEN_GRADE_HIGH,
    NEN_GRADE_NOT_GRADED,
    NEN_GRADE__COUNT
};

enum nen_gtype {
    NEN_GTYPE_NOT_APPLICABLE = 0,
    NEN_GTYPE_1, NEN_GTYPE_2, NEN_GTYPE_3, NEN_GTYPE_1_OR_2, NEN_GTYPE_INDETERMINATE,
    NEN_GTYPE__COUNT
};

enum nen_stage {
    NEN_STAGE_INDETERMINATE = 0,
    NEN_STAGE_NOT_STAGED,
    NEN_STAGE_OCCULT, NEN_STAGE_0,
    NEN_STAGE_I, NEN_STAGE_IA1, NEN_STAGE_IA2, NEN_STAGE_IA3, NEN_STAGE_IB,
    NEN_STAGE_II, NEN_STAGE_IIA, NEN_STAGE_IIB,
    NEN_STAGE_III, NEN_STAGE_IIIA, NEN_STAGE_IIIB, NEN_STAGE_IIIC,
    NEN_STAGE_IV, NEN_STAGE_IVA, NEN_STAGE_IVB,
    NEN_STAGE__COUNT
};

enum nen_status { NEN_STATUS_PRELIMINARY = 0, NEN_STATUS_FINAL };

/* One step of a rule trace: which rule fired and the inputs it used. */
#define NEN_RULE_LEN 96
#define NEN_TEXT_LEN 256
#define NEN_TRACE_MAX 12
struct nen_step {
    char rule[NEN_RULE_LEN];  /* e.g. "CACA 2025 Table 3, GEP: NET G2 row" */
    char text[NEN_TEXT_LEN];  /* e.g. "Ki-67 4% is within 3-20%" */
};
struct nen_trace {
    int n;
    int truncated;            /* more steps were produced than fit */
    struct nen_step step[NEN_TRACE_MAX];
};

#define NEN_WARN_CODE_LEN 40
#define NEN_WARN_MAX 16
struct nen_warning {
    char code[NEN_WARN_CODE_LEN];  /* stable identifier, e.g. "mitoses-missing" */
    char text[NEN_TEXT_LEN];       /* words for a pathologist */
};

/* One piece of guideline advice: a stable code (vocabulary in
 * tests/vectors/README.md, e.g. "follow-up-3-6m", "genetic-assessment",
 * "endoscopic-resection") and words for the treating team. */
#define NEN_ADVICE_MAX 6
#define NEN_ADVICE_CODE_LEN 40
struct nen_advice {
    char code[NEN_ADVICE_CODE_LEN];
    char text[NEN_TEXT_LEN];
};

#define NEN_MISSING_MAX 16
#define NEN_MISSING_LEN 40

/* A T, N or M result: one category, or a set of candidates when the inputs
 * cannot settle it (value NEN_TNM_UNKNOWN then). */
struct nen_tnm_result {
    enum nen_tnm value;
    uint64_t candidates;      /* 1ULL << category; set when value is unknown */
    int multiple;             /* T only: multiple tumours, printed with "(m)" */
    struct nen_trace trace;
};

struct nen_result {
    enum nen_class cls;
    char subtype[NEN_TEXT_LEN];   /* lineage, SDHx-deficient, MiNEN components ... */
    struct nen_trace class_trace;

    enum nen_grade grade;
    struct nen_trace grade_trace;

    enum nen_gtype gtype;
    struct nen_trace gtype_trace;

    struct nen_tnm_result t, n, m;
    enum nen_stage stage;
    uint32_t stage_candidates;    /* 1u << enum nen_stage when indeterminate */
    struct nen_trace stage_trace;

    enum nen_status status;       /* final when every applicable field is determinate */

    int nwarn;
    struct nen_warning warn[NEN_WARN_MAX];
    int nmissing;
    char missing[NEN_MISSING_MAX][NEN_MISSING_LEN]; /* inputs that were needed, by name */

    /* Guideline advice for the treating team (CACA 2025 §7, §2.3, §4.1): suggestions,
     * never orders; nen_advice.c, traced like every other value. */
    int nadvice;
    struct nen_advice advice[NEN_ADVICE_MAX];
    struct nen_trace advice_trace;
};

/* ---------- API ---------- */

/* Set every input to unknown. */
void nen_case_init(struct nen_case *c);

/* Check ranges (Ki-67 0-100, counts >= 0, positive nodes <= examined ...).
 * Returns 0, or -1 with a message naming the field in err (errlen bytes). */
int nen_case_check(const struct nen_case *c, char *err, unsigned errlen);

/* Run every rule: class and grade, gastric type, T, N, M and stage group.
 * Pure: no I/O, no allocation. The case must have passed nen_case_check. */
void nen_classify(const struct nen_case *c, struct nen_result *r);

/* The steps, callable alone (each expects r zeroed by nen_result_init and,
 * for type and stage, the class and grade already computed). */
void nen_result_init(struct nen_result *r);
void nen_grade_classify(const struct nen_case *c, struct nen_result *r);
void nen_gtype_classify(const struct nen_case *c, struct nen_result *r);
void nen_stage_classify(const struct nen_case *c, struct nen_result *r);
/* The guideline's advice from the case and the result computed so far (class,
 * grade, type, T/N/M): fills r->advice and r->advice_trace anew (nen_advice.c). */
void nen_advice_classify(const struct nen_case *c, struct nen_result *r);

/* Trace, warning and missing-input helpers (nen_trace.c). Text is cut, never
 * overflowed, when too long. */
void nen_trace_add(struct nen_trace *t, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nen_warn(struct nen_result *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nen_missing(struct nen_result *r, const char *input);
/* Format into a result text field (e.g. r->subtype), cut to len. */
void nen_text_set(char *buf, unsigned len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "%g"-style number for trace text into buf (at least 24 bytes); returns buf. */
const char *nen_fmt_num(double v, char *buf, unsigned len);

/* Names (nen_names.c): the strings of the summary format; NULL if out of range.
 * nen_*_parse return the enum or -1 when the word is not known. */
const char *nen_class_name(enum nen_class v);
const char *nen_grade_name(enum nen_grade v);
const char *nen_gtype_name(enum nen_gtype v);
const char *nen_stage_name(enum nen_stage v);
const char *nen_tnm_name(enum nen_tnm v);
const char *nen_site_name(enum nen_site v);
const char *nen_extent_name(enum nen_extent v);
const char *nen_met_name(enum nen_met_site v);
const char *nen_status_name(enum nen_status v);
int nen_class_parse(const char *s);
int nen_grade_parse(const char *s);
int nen_gtype_parse(const char *s);
int nen_stage_parse(const char *s);
int nen_tnm_parse(const char *s);
int nen_site_parse(const char *s);
int nen_extent_parse(const char *s);
int nen_met_parse(const char *s);

/* T/N/M text: "T2", "T1(m)", or "indeterminate". */
const char *nen_tnm_result_text(const struct nen_tnm_result *x, char *buf, unsigned len);

#endif
