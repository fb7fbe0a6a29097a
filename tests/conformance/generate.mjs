// generate.mjs: makes pseudo-random consent choices from a seed, encodes each with the IAB's
// reference packages (TCF v2.2 TC strings with @iabtechlabtcf/core, GPP strings with
// @iabgpp/cmpapi), decodes each string again with the reference and writes one JSON line per
// string: {"kind":"tcf"|"gpp","string":...,"model":...}, the model being what the reference read
// from the string, in the form of consentry's models (model.mjs).
//
//   node generate.mjs SEED COUNT [--self-check]
//
// writes COUNT TC strings then COUNT GPP strings to standard output. --self-check also tells on
// standard error, field by field, how often the reference's decode differs from the choices it
// was asked to encode: both packages clear the legitimate-interest bits of purposes 1 and 3-6
// (TCF v2.2 allows none there), and @iabtechlabtcf/core writes a restriction's vendors as ranges
// running over ids that are not on the GVL (syntheticGvl).
import { GVL, PurposeRestriction, Segment, TCModel, TCString } from '@iabtechlabtcf/core';
import { AbstractLazilyEncodableSection, GppModel, RangeEntry } from '@iabgpp/cmpapi';
import { decodeGppString, decodeTcString, diff } from './model.mjs';

/** mulberry32 is a small deterministic PRNG: a function giving floats in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random draws the values the generator needs from one mulberry32 stream. */
class Random {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  /** int gives an integer in [lo, hi]. */
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** bool is true with probability p. */
  bool(p = 0.5) {
    return this.next() < p;
  }
  /** pick gives one element of `items`. */
  pick(items) {
    return items[this.int(0, items.length - 1)];
  }
  /** subset gives the ids of 1..n kept each with probability p (p drawn when not given). */
  subset(n, p = this.next()) {
    const ids = [];
    for (let i = 1; i <= n; i++) if (this.bool(p)) ids.push(i);
    return ids;
  }
  /** letters gives two letters A-Z. */
  letters() {
    return String.fromCharCode(65 + this.int(0, 25), 65 + this.int(0, 25));
  }
}

/** sorted gives the distinct ids of `ids`, ascending. */
function sorted(ids) {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** vendorIds draws a set of vendor ids in one of several shapes, so that the reference encodes
 * vendor lists both as bit fields and as ranges: none, small (max id at most 45: always a bit
 * field), dense, sparse over a wide span (up to 65535), runs of consecutive ids, and edges. */
function vendorIds(rng) {
  const shape = rng.pick(['empty', 'small', 'dense', 'dense', 'sparse', 'sparse', 'runs', 'runs', 'edge']);
  switch (shape) {
    case 'empty':
      return [];
    case 'small':
      return rng.subset(rng.int(1, 45));
    case 'dense':
      return rng.subset(rng.int(46, 1500), 0.3 + 0.65 * rng.next());
    case 'sparse': {
      const span = rng.pick([100, 1000, 5000, 65535]);
      const count = rng.int(1, 40);
      return sorted(Array.from({ length: count }, () => rng.int(1, span)));
    }
    case 'runs': {
      const ids = [];
      const runs = rng.int(1, 8);
      for (let r = 0; r < runs; r++) {
        const start = rng.int(1, 3000);
        const length = rng.int(1, 200);
        for (let i = 0; i < length; i++) ids.push(start + i);
      }
      return sorted(ids);
    }
    default:
      return rng.pick([[1], [65535], [1, 65535], Array.from({ length: 300 }, (_, i) => i + 1), [45], [46]]);
  }
}

/** restrictionVendors draws the vendors of one publisher restriction: never empty. */
function restrictionVendors(rng) {
  for (;;) {
    const ids = rng.bool(0.5)
      ? vendorIds(rng)
      : sorted(Array.from({ length: rng.int(1, 6) }, () => rng.int(1, 400)));
    if (ids.length > 0) return ids.length > 2000 ? ids.slice(0, 2000) : ids;
  }
}

/** restrictions draws 0 to 5 publisher restrictions, each (purpose, type) at most once and
 * naming at least one vendor: @iabtechlabtcf/core keeps restrictions in a map keyed by the pair
 * and drops one without vendors, and so does consentry (@iabgpp/cmpapi keeps either as it is). */
function restrictions(rng) {
  const out = [];
  const seen = new Set();
  const count = rng.bool(0.4) ? 0 : rng.int(1, 5);
  for (let i = 0; i < count; i++) {
    const purpose = rng.int(1, 24);
    const type = rng.int(0, 2);
    if (seen.has(`${purpose}-${type}`)) continue;
    seen.add(`${purpose}-${type}`);
    out.push({ purpose, type, vendors: restrictionVendors(rng) });
  }
  return out;
}

/** times draws Created and LastUpdated in milliseconds: mostly between 2019 and 2040, sometimes
 * whole days (as the reference's own TCModel keeps them), sometimes the ends of the 36 bits. */
function times(rng) {
  const kind = rng.int(0, 9);
  if (kind === 0) return [0, 0];
  if (kind === 1) return [(2 ** 36 - 1) * 100, (2 ** 36 - 1) * 100];
  let created = rng.int(1546300800, 2208988800) * 1000 + rng.int(0, 999);
  if (kind === 2) created = Math.floor(created / 86400000) * 86400000;
  const lastUpdated = rng.bool(0.3) ? created : created + rng.int(0, 400 * 86400) * 1000 + rng.int(0, 999);
  return [created, Math.min(lastUpdated, (2 ** 36 - 1) * 100)];
}

/** tcfChoices draws one set of TCF choices, in the form of consentry's TcString. */
function tcfChoices(rng, { gpp }) {
  const [created, lastUpdated] = times(rng);
  const customPurposes = rng.pick([0, 0, rng.int(1, 10), rng.int(1, 63)]);
  const withDisclosed = gpp || rng.bool(0.7);
  const withPublisherTc = gpp || rng.bool(0.4);
  const gvlComplete = rng.bool();
  return {
    gvl_complete: gvlComplete,
    version: 2,
    created_ms: created,
    last_updated_ms: lastUpdated,
    created_ds: Math.round(created / 100),
    last_updated_ds: Math.round(lastUpdated / 100),
    cmp_id: rng.int(2, 4095),
    cmp_version: rng.int(0, 4095),
    consent_screen: rng.int(0, 63),
    consent_language: rng.bool(0.7) ? rng.pick(['EN', 'FR', 'DE', 'PT', 'ZH', 'SR', 'NL']) : rng.letters(),
    vendor_list_version: rng.pick([rng.int(1, 200), rng.int(0, 4095)]),
    tcf_policy_version: rng.pick([4, 4, 5, 2, rng.int(0, 63)]),
    // The GPP reference refuses to encode a tcfeuv2 section that is not service specific.
    is_service_specific: gpp ? true : rng.bool(),
    use_non_standard_texts: rng.bool(0.2),
    special_feature_optins: rng.subset(12),
    purpose_consents: rng.subset(rng.pick([10, 11, 24])),
    purpose_legitimate_interests: rng.subset(rng.pick([10, 11, 24])),
    purpose_one_treatment: rng.bool(0.2),
    publisher_cc: rng.bool(0.7) ? rng.pick(['AA', 'FR', 'DE', 'GB', 'IT', 'ES']) : rng.letters(),
    vendor_consents: vendorIds(rng),
    vendor_legitimate_interests: vendorIds(rng),
    publisher_restrictions: restrictions(rng),
    disclosed_vendors: withDisclosed ? vendorIds(rng) : null,
    publisher_tc: withPublisherTc
      ? {
          purpose_consents: rng.subset(rng.pick([11, 24])),
          purpose_legitimate_interests: rng.subset(rng.pick([11, 24])),
          custom_purposes: customPurposes,
          custom_purpose_consents: rng.subset(customPurposes),
          custom_purpose_legitimate_interests: rng.subset(customPurposes),
        }
      : null,
  };
}

/** ALL_PURPOSES is 1..24: every synthetic vendor declares every purpose, for consent, legitimate
 * interest and as flexible, so that the reference's encoder drops none of the choices. */
const ALL_PURPOSES = Array.from({ length: 24 }, (_, i) => i + 1);

/** syntheticGvl makes a Global Vendor List for the reference's encoder (it will not encode
 * without one): the vendors named anywhere in `choices`, each declaring every purpose. */
function syntheticGvl(choices) {
  const ids = new Set([
    ...choices.vendor_consents,
    ...choices.vendor_legitimate_interests,
    ...(choices.disclosed_vendors || []),
  ]);
  for (const r of choices.publisher_restrictions) r.vendors.forEach((v) => ids.add(v));
  // Restriction vendors' ranges run over ids that are not on the GVL (the reference's encoder
  // joins two vendors into one range when no GVL vendor lies between them); half the time the
  // id after each restricted vendor is on the list too, so that the restrictions stay as drawn.
  if (choices.gvl_complete) {
    for (const r of choices.publisher_restrictions) r.vendors.forEach((v) => v < 65535 && ids.add(v + 1));
  }
  const vendors = {};
  for (const id of ids) {
    vendors[id] = {
      id,
      name: `vendor ${id}`,
      purposes: ALL_PURPOSES,
      legIntPurposes: ALL_PURPOSES,
      flexiblePurposes: ALL_PURPOSES,
      specialPurposes: [],
      features: [],
      specialFeatures: [],
    };
  }
  const purposes = {};
  for (const id of ALL_PURPOSES) purposes[id] = { id, name: `purpose ${id}`, description: '' };
  // The encoder writes the GVL's language as ConsentLanguage, a language its GVL class accepts
  // only from the IAB's list (any other silently stays EN, with an unhandled promise rejection),
  // and a clone of the GVL, which the encoder makes, keeps it only through a fetch of the
  // language's texts. A new GVL takes DEFAULT_LANGUAGE, so the default is set to the letters
  // wanted while the GVL is made and cloned (encodeTcf puts it back).
  GVL.DEFAULT_LANGUAGE = choices.consent_language;
  const gvl = new GVL({
    gvlSpecificationVersion: 3,
    vendorListVersion: choices.vendor_list_version,
    tcfPolicyVersion: choices.tcf_policy_version,
    lastUpdated: '2024-01-01T00:00:00Z',
    purposes,
    specialPurposes: {},
    features: {},
    specialFeatures: {},
    stacks: {},
    dataCategories: {},
    vendors,
  });
  GVL.emptyCache();
  return gvl;
}

/** encodeTcf encodes `choices` as a TC string with the reference's TCModel and TCString. */
function encodeTcf(choices) {
  const tc = new TCModel(syntheticGvl(choices));
  tc.cmpId = choices.cmp_id;
  tc.cmpVersion = choices.cmp_version;
  tc.consentScreen = choices.consent_screen;
  tc.isServiceSpecific = choices.is_service_specific;
  tc.useNonStandardTexts = choices.use_non_standard_texts;
  tc.purposeOneTreatment = choices.purpose_one_treatment;
  tc.publisherCountryCode = choices.publisher_cc;
  tc.specialFeatureOptins.set(choices.special_feature_optins);
  tc.purposeConsents.set(choices.purpose_consents);
  tc.purposeLegitimateInterests.set(choices.purpose_legitimate_interests);
  tc.vendorConsents.set(choices.vendor_consents);
  tc.vendorLegitimateInterests.set(choices.vendor_legitimate_interests);
  for (const r of choices.publisher_restrictions) {
    const restriction = new PurposeRestriction(r.purpose, r.type);
    for (const vendor of r.vendors) tc.publisherRestrictions.add(vendor, restriction);
  }
  const segments = [Segment.CORE];
  if (choices.disclosed_vendors) {
    tc.vendorsDisclosed.set(choices.disclosed_vendors);
    segments.push(Segment.VENDORS_DISCLOSED);
  }
  if (choices.publisher_tc) {
    const p = choices.publisher_tc;
    tc.publisherConsents.set(p.purpose_consents);
    tc.publisherLegitimateInterests.set(p.purpose_legitimate_interests);
    tc.numCustomPurposes = p.custom_purposes;
    tc.publisherCustomConsents.set(p.custom_purpose_consents);
    tc.publisherCustomLegitimateInterests.set(p.custom_purpose_legitimate_interests);
    segments.push(Segment.PUBLISHER_TC);
  }
  tc.created = new Date(choices.created_ms);
  tc.lastUpdated = new Date(choices.last_updated_ms);
  try {
    return TCString.encode(tc, { segments });
  } finally {
    GVL.DEFAULT_LANGUAGE = 'EN';
  }
}

/** bits gives ids as a boolean array of length n, as GppModel takes bit fields. */
function bits(ids, n) {
  const out = new Array(n).fill(false);
  for (const id of ids) out[id - 1] = true;
  return out;
}

/** setTcfEuSection writes `choices` into the tcfeuv2 section of `gpp`. The section stamps Created
 * and LastUpdated with today's date whenever another field is set, and setting either sets both
 * to the same value; the two are written last, LastUpdated through the section's base class so
 * that it may differ from Created. */
function setTcfEuSection(gpp, choices) {
  const set = (field, value) => gpp.setFieldValue('tcfeuv2', field, value);
  set('CmpId', choices.cmp_id);
  set('CmpVersion', choices.cmp_version);
  set('ConsentScreen', choices.consent_screen);
  set('ConsentLanguage', choices.consent_language);
  set('VendorListVersion', choices.vendor_list_version);
  set('PolicyVersion', choices.tcf_policy_version);
  set('IsServiceSpecific', choices.is_service_specific);
  set('UseNonStandardStacks', choices.use_non_standard_texts);
  set('SpecialFeatureOptins', bits(choices.special_feature_optins, 12));
  set('PurposeConsents', bits(choices.purpose_consents, 24));
  set('PurposeLegitimateInterests', bits(choices.purpose_legitimate_interests, 24));
  set('PurposeOneTreatment', choices.purpose_one_treatment);
  set('PublisherCountryCode', choices.publisher_cc);
  set('VendorConsents', choices.vendor_consents);
  set('VendorLegitimateInterests', choices.vendor_legitimate_interests);
  set(
    'PublisherRestrictions',
    choices.publisher_restrictions.map((r) => new RangeEntry(r.purpose, r.type, [...r.vendors])),
  );
  set('VendorsDisclosed', choices.disclosed_vendors || []);
  const p = choices.publisher_tc;
  set('PublisherConsents', bits(p.purpose_consents, 24));
  set('PublisherLegitimateInterests', bits(p.purpose_legitimate_interests, 24));
  set('NumCustomPurposes', p.custom_purposes);
  set('PublisherCustomConsents', bits(p.custom_purpose_consents, p.custom_purposes));
  set('PublisherCustomLegitimateInterests', bits(p.custom_purpose_legitimate_interests, p.custom_purposes));
  set('Created', new Date(choices.created_ms));
  const section = gpp.sections.get('tcfeuv2');
  const lastUpdated = new Date(choices.last_updated_ms);
  AbstractLazilyEncodableSection.prototype.setFieldValue.call(section, 'LastUpdated', lastUpdated);
}

/** usNatChoices draws one usnat section, in the form of consentry's UsNat. */
function usNatChoices(rng) {
  const version = rng.pick([1, 2, 2]);
  const two = () => rng.int(0, 2);
  const gpc = rng.pick([null, false, true]);
  return {
    version,
    sharing_notice: two(),
    sale_opt_out_notice: two(),
    sharing_opt_out_notice: two(),
    targeted_advertising_opt_out_notice: two(),
    sensitive_data_processing_opt_out_notice: two(),
    sensitive_data_limit_use_notice: two(),
    sale_opt_out: two(),
    sharing_opt_out: two(),
    targeted_advertising_opt_out: two(),
    sensitive_data_processing: Array.from({ length: version === 1 ? 12 : 16 }, two),
    known_child_sensitive_data_consents: Array.from({ length: version === 1 ? 2 : 3 }, two),
    personal_data_consents: two(),
    mspa_covered_transaction: rng.int(1, 2), // the reference allows only 1 or 2 here
    mspa_opt_out_option_mode: two(),
    mspa_service_provider_mode: two(),
    gpc,
  };
}

/** USNAT_FIELDS pairs consentry's UsNat fields with the reference's usnat field names (the same
 * order: the specification's). */
const USNAT_FIELDS = [
  ['version', 'Version'],
  ['sharing_notice', 'SharingNotice'],
  ['sale_opt_out_notice', 'SaleOptOutNotice'],
  ['sharing_opt_out_notice', 'SharingOptOutNotice'],
  ['targeted_advertising_opt_out_notice', 'TargetedAdvertisingOptOutNotice'],
  ['sensitive_data_processing_opt_out_notice', 'SensitiveDataProcessingOptOutNotice'],
  ['sensitive_data_limit_use_notice', 'SensitiveDataLimitUseNotice'],
  ['sale_opt_out', 'SaleOptOut'],
  ['sharing_opt_out', 'SharingOptOut'],
  ['targeted_advertising_opt_out', 'TargetedAdvertisingOptOut'],
  ['sensitive_data_processing', 'SensitiveDataProcessing'],
  ['known_child_sensitive_data_consents', 'KnownChildSensitiveDataConsents'],
  ['personal_data_consents', 'PersonalDataConsents'],
  ['mspa_covered_transaction', 'MspaCoveredTransaction'],
  ['mspa_opt_out_option_mode', 'MspaOptOutOptionMode'],
  ['mspa_service_provider_mode', 'MspaServiceProviderMode'],
];

/** setUsNatSection writes `choices` into the usnat section of `gpp`. */
function setUsNatSection(gpp, choices) {
  for (const [ours, theirs] of USNAT_FIELDS) gpp.setFieldValue('usnat', theirs, choices[ours]);
  gpp.setFieldValue('usnat', 'GpcSegmentIncluded', choices.gpc !== null);
  if (choices.gpc !== null) gpp.setFieldValue('usnat', 'Gpc', choices.gpc);
}

/** gppChoices draws the sections of one GPP string: tcfeuv2 and usnat mostly together, and now
 * and then another section consentry keeps as text (uspv1 6, usca 8), or none at all. */
function gppChoices(rng) {
  const sections = [];
  const which = rng.next();
  const tcf = which < 0.8;
  const usnat = which < 0.6 || which >= 0.8;
  if (tcf) sections.push({ id: 2, tcf_eu: tcfChoices(rng, { gpp: true }) });
  if (rng.bool(0.2)) {
    const c = () => rng.pick(['Y', 'N', '-']);
    sections.push({ id: 6, uspv1: [c(), c(), c()] });
  }
  if (usnat) sections.push({ id: 7, us_national: usNatChoices(rng) });
  if (rng.bool(0.15)) {
    sections.push({ id: 8, usca: { SaleOptOutNotice: rng.int(0, 2), SaleOptOut: rng.int(0, 2) } });
  }
  if (rng.bool(0.03)) sections.length = 0;
  return { version: 1, sections };
}

/** encodeGpp encodes `choices` with the reference's GppModel. */
function encodeGpp(choices) {
  const gpp = new GppModel();
  for (const section of choices.sections) {
    if (section.tcf_eu) setTcfEuSection(gpp, section.tcf_eu);
    if (section.us_national) setUsNatSection(gpp, section.us_national);
    if (section.uspv1) {
      gpp.setFieldValue('uspv1', 'Notice', section.uspv1[0]);
      gpp.setFieldValue('uspv1', 'OptOutSale', section.uspv1[1]);
      gpp.setFieldValue('uspv1', 'LspaCovered', section.uspv1[2]);
    }
    if (section.usca) {
      for (const [field, value] of Object.entries(section.usca)) gpp.setFieldValue('usca', field, value);
    }
  }
  return gpp.encode();
}

/** intendedTcf gives `choices` as a TcString model (without the generator's milliseconds). */
function intendedTcf(choices) {
  const { created_ms: _c, last_updated_ms: _l, gvl_complete: _g, ...model } = choices;
  return model;
}

/** intendedGpp gives GPP `choices` as a GppString model; other sections' texts are unknown
 * before encoding and are left out of the self-check. */
function intendedGpp(choices, decoded) {
  return {
    version: choices.version,
    sections: choices.sections.map((s, i) => {
      if (s.tcf_eu) return { id: s.id, tcf_eu: intendedTcf(s.tcf_eu) };
      if (s.us_national) return { id: s.id, us_national: s.us_national };
      return { id: s.id, text: decoded.sections[i]?.text };
    }),
  };
}

/** main writes the JSON lines and, with --self-check, the reference's departures from the
 * choices it encoded. */
function main() {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const selfCheck = process.argv.includes('--self-check');
  if (args.length !== 2 || !/^\d+$/.test(args[0]) || !/^\d+$/.test(args[1])) {
    process.stderr.write('usage: node generate.mjs SEED COUNT [--self-check]\n');
    process.exit(2);
  }
  const rng = new Random(Number(args[0]));
  const count = Number(args[1]);
  const departures = new Map();
  const note = (kind, intended, decoded) => {
    for (const d of diff(intended, decoded)) {
      const key = `${kind} ${d.field.replace(/\[\d+\]/g, '[]')}`;
      const seen = departures.get(key) || { count: 0, example: d };
      seen.count++;
      departures.set(key, seen);
    }
  };
  const lines = [];
  for (let i = 0; i < count; i++) {
    const choices = tcfChoices(rng, { gpp: false });
    const string = encodeTcf(choices);
    const model = decodeTcString(string);
    if (selfCheck) note('tcf', intendedTcf(choices), model);
    lines.push(JSON.stringify({ kind: 'tcf', string, model }));
  }
  for (let i = 0; i < count; i++) {
    const choices = gppChoices(rng);
    const string = encodeGpp(choices);
    const model = decodeGppString(string);
    if (selfCheck) note('gpp', intendedGpp(choices, model), model);
    lines.push(JSON.stringify({ kind: 'gpp', string, model }));
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (selfCheck) {
    for (const [key, { count: n, example }] of [...departures].sort()) {
      process.stderr.write(`self-check: ${key}: ${n} of ${count} differ from the choices, e.g. ` +
        `set ${example.expected}, read ${example.got}\n`);
    }
    if (departures.size === 0) process.stderr.write('self-check: every decode matches its choices\n');
  }
}

main();
