// model.mjs: maps what the IAB's reference packages decode (a TCModel from @iabtechlabtcf/core, a
// GppModel from @iabgpp/cmpapi) to the JSON form of consentry's models (consentry/signals/
// tcf_string.hpp and gpp_string.hpp: the C++ fields' names, sets as sorted arrays, times in
// deciseconds), and compares two such models field by field.
import { TCString } from '@iabtechlabtcf/core';
import { GppModel, HeaderV1, Sections } from '@iabgpp/cmpapi';

/** BASE64URL is the alphabet of TC and GPP strings. */
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** segmentTypes gives the segment types (the first 3 bits of each '.'-separated segment; the core
 * segment, whose first 6 bits are the version 2, reads as 0) of a TC string or tcfeuv2 section.
 * The reference's models keep an absent disclosed-vendors or publisher-TC segment as an empty
 * one, so whether a segment is there is read from the string, as the reference's decoders do. */
export function segmentTypes(text) {
  const types = new Set();
  for (const segment of text.split('.')) {
    const value = BASE64URL.indexOf(segment.charAt(0));
    if (value >= 0) types.add(value >> 3);
  }
  return types;
}

/** idsOfVector lists the ids a reference Vector holds, ascending. */
function idsOfVector(vector) {
  return Array.from(vector.values()).sort((a, b) => a - b);
}

/** idsOfBits lists the 1-based positions of the true entries of a boolean array. */
function idsOfBits(bits) {
  const ids = [];
  (bits || []).forEach((bit, i) => {
    if (bit) ids.push(i + 1);
  });
  return ids;
}

/** deciseconds gives a reference Date as the string holds it, deciseconds since the epoch. */
function deciseconds(date) {
  return Math.round(date.getTime() / 100);
}

/** tcModelToJson maps a TCModel that TCString.decode made from `text` to consentry's TcString.
 * Its vendorListVersion and policyVersion are its GVL's when it has one; a decoded TCModel has
 * none, so they are the string's. Its Dates hold Created and LastUpdated to the decisecond as
 * the string has them (a new TCModel's are today at midnight UTC). Its publisher restrictions are
 * a map from "purpose-type" to vendors, kept in the order the string gives them. */
export function tcModelToJson(tcModel, text) {
  const types = segmentTypes(text);
  const restrictions = [];
  const prv = tcModel.publisherRestrictions;
  for (const restriction of prv.getRestrictions()) {
    restrictions.push({
      purpose: restriction.purposeId,
      type: restriction.restrictionType,
      vendors: prv.getVendors(restriction),
    });
  }
  return {
    version: tcModel.version,
    created_ds: deciseconds(tcModel.created),
    last_updated_ds: deciseconds(tcModel.lastUpdated),
    cmp_id: tcModel.cmpId,
    cmp_version: tcModel.cmpVersion,
    consent_screen: tcModel.consentScreen,
    consent_language: tcModel.consentLanguage,
    vendor_list_version: tcModel.vendorListVersion,
    tcf_policy_version: tcModel.policyVersion,
    is_service_specific: tcModel.isServiceSpecific,
    use_non_standard_texts: tcModel.useNonStandardTexts,
    special_feature_optins: idsOfVector(tcModel.specialFeatureOptins),
    purpose_consents: idsOfVector(tcModel.purposeConsents),
    purpose_legitimate_interests: idsOfVector(tcModel.purposeLegitimateInterests),
    purpose_one_treatment: tcModel.purposeOneTreatment,
    publisher_cc: tcModel.publisherCountryCode,
    vendor_consents: idsOfVector(tcModel.vendorConsents),
    vendor_legitimate_interests: idsOfVector(tcModel.vendorLegitimateInterests),
    publisher_restrictions: restrictions,
    disclosed_vendors: types.has(1) ? idsOfVector(tcModel.vendorsDisclosed) : null,
    publisher_tc: types.has(3)
      ? {
          purpose_consents: idsOfVector(tcModel.publisherConsents),
          purpose_legitimate_interests: idsOfVector(tcModel.publisherLegitimateInterests),
          custom_purposes: tcModel.numCustomPurposes,
          custom_purpose_consents: idsOfVector(tcModel.publisherCustomConsents),
          custom_purpose_legitimate_interests: idsOfVector(tcModel.publisherCustomLegitimateInterests),
        }
      : null,
  };
}

/** decodeTcString decodes a TC string with the reference and maps it to consentry's TcString. */
export function decodeTcString(text) {
  return tcModelToJson(TCString.decode(text), text);
}

/** tcfEuSectionToJson maps the reference's decoded tcfeuv2 section (`get` reads one of its
 * fields) to consentry's TcString; `text` is the section's text. */
function tcfEuSectionToJson(get, text) {
  const types = segmentTypes(text);
  const restrictions = (get('PublisherRestrictions') || []).map((entry) => ({
    purpose: entry.getKey(),
    type: entry.getType(),
    vendors: [...entry.getIds()].sort((a, b) => a - b),
  }));
  return {
    version: get('Version'),
    created_ds: deciseconds(get('Created')),
    last_updated_ds: deciseconds(get('LastUpdated')),
    cmp_id: get('CmpId'),
    cmp_version: get('CmpVersion'),
    consent_screen: get('ConsentScreen'),
    consent_language: get('ConsentLanguage'),
    vendor_list_version: get('VendorListVersion'),
    tcf_policy_version: get('PolicyVersion'),
    is_service_specific: get('IsServiceSpecific'),
    use_non_standard_texts: get('UseNonStandardStacks'),
    special_feature_optins: idsOfBits(get('SpecialFeatureOptins')),
    purpose_consents: idsOfBits(get('PurposeConsents')),
    purpose_legitimate_interests: idsOfBits(get('PurposeLegitimateInterests')),
    purpose_one_treatment: get('PurposeOneTreatment'),
    publisher_cc: get('PublisherCountryCode'),
    vendor_consents: [...get('VendorConsents')],
    vendor_legitimate_interests: [...get('VendorLegitimateInterests')],
    publisher_restrictions: restrictions,
    disclosed_vendors: types.has(1) ? [...get('VendorsDisclosed')] : null,
    publisher_tc: types.has(3)
      ? {
          purpose_consents: idsOfBits(get('PublisherConsents')),
          purpose_legitimate_interests: idsOfBits(get('PublisherLegitimateInterests')),
          custom_purposes: get('NumCustomPurposes'),
          custom_purpose_consents: idsOfBits(get('PublisherCustomConsents')),
          custom_purpose_legitimate_interests: idsOfBits(get('PublisherCustomLegitimateInterests')),
        }
      : null,
  };
}

/** usNatSectionToJson maps the reference's decoded usnat section to consentry's UsNat. The
 * reference gives version 1's 12 sensitive-data and 2 child-consent values as such. */
function usNatSectionToJson(get, text) {
  const gpcIncluded = text.split('.').length > 1;
  return {
    version: get('Version'),
    sharing_notice: get('SharingNotice'),
    sale_opt_out_notice: get('SaleOptOutNotice'),
    sharing_opt_out_notice: get('SharingOptOutNotice'),
    targeted_advertising_opt_out_notice: get('TargetedAdvertisingOptOutNotice'),
    sensitive_data_processing_opt_out_notice: get('SensitiveDataProcessingOptOutNotice'),
    sensitive_data_limit_use_notice: get('SensitiveDataLimitUseNotice'),
    sale_opt_out: get('SaleOptOut'),
    sharing_opt_out: get('SharingOptOut'),
    targeted_advertising_opt_out: get('TargetedAdvertisingOptOut'),
    sensitive_data_processing: [...get('SensitiveDataProcessing')],
    known_child_sensitive_data_consents: [...get('KnownChildSensitiveDataConsents')],
    personal_data_consents: get('PersonalDataConsents'),
    mspa_covered_transaction: get('MspaCoveredTransaction'),
    mspa_opt_out_option_mode: get('MspaOptOutOptionMode'),
    mspa_service_provider_mode: get('MspaServiceProviderMode'),
    gpc: gpcIncluded ? get('Gpc') : null,
  };
}

/** decodeGppString decodes a GPP string with the reference (GppModel) and maps it to consentry's
 * GppString: tcfeuv2 (id 2) and usnat (id 7) as models, any other section as its text. */
export function decodeGppString(text) {
  const model = new GppModel(text);
  const [headerText, ...texts] = text.split('~');
  const header = new HeaderV1(headerText);
  const ids = header.getFieldValue('SectionIds');
  const sections = ids.map((id, i) => {
    const sectionText = texts[i];
    if (id === 2) {
      return { id, tcf_eu: tcfEuSectionToJson((f) => model.getFieldValue('tcfeuv2', f), sectionText) };
    }
    if (id === 7) {
      return { id, us_national: usNatSectionToJson((f) => model.getFieldValue('usnat', f), sectionText) };
    }
    // Other sections: decoded by the reference all the same, so that one it refuses shows.
    model.getSection(Sections.SECTION_ID_NAME_MAP.get(id));
    return { id, text: sectionText };
  });
  return { version: header.getFieldValue('Version'), sections };
}

/** show gives a value for a message, long arrays shortened. */
function show(value) {
  if (Array.isArray(value) && value.length > 12 && value.every((v) => typeof v === 'number')) {
    return `[${value.slice(0, 12).join(',')},... (${value.length} ids)]`;
  }
  return JSON.stringify(value);
}

/** diff compares `expected` and `got` recursively and appends {field, expected, got} for each
 * difference; arrays of numbers are compared whole, naming the ids missing and extra. */
export function diff(expected, got, path = '', out = []) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(expected) && Array.isArray(got)) {
    const numbers = [...expected, ...got].every((v) => typeof v === 'number');
    if (numbers) {
      if (JSON.stringify(expected) !== JSON.stringify(got)) {
        const e = new Set(expected);
        const g = new Set(got);
        const missing = expected.filter((v) => !g.has(v)).slice(0, 10);
        const extra = got.filter((v) => !e.has(v)).slice(0, 10);
        out.push({
          field: path,
          expected: show(expected),
          got: `${show(got)} (missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)})`,
        });
      }
      return out;
    }
    if (expected.length !== got.length) {
      out.push({ field: `${path}.length`, expected: expected.length, got: got.length });
    }
    for (let i = 0; i < Math.min(expected.length, got.length); i++) {
      diff(expected[i], got[i], `${path}[${i}]`, out);
    }
    return out;
  }
  if (isObject(expected) && isObject(got)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(got)]);
    for (const key of keys) {
      diff(expected[key], got[key], path ? `${path}.${key}` : key, out);
    }
    return out;
  }
  if (JSON.stringify(expected) !== JSON.stringify(got)) {
    out.push({ field: path, expected: show(expected), got: show(got) });
  }
  return out;
}
