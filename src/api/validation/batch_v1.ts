/**
 * Validation of batch/v1 Jobs and CronJobs, following pkg/apis/batch/validation (Kubernetes 1.32): pod
 * templates that restart OnFailure or Never, non-negative counts, a selector matching the template, and
 * a CronJob schedule that the cron library parses.
 */

import { type FieldError, child, goLabelSelector, GoValue, goStringMap, invalid, notSupported, required } from "./field_errors.js";
import { validatePodTemplateSpec } from "./core_v1.js";
import { CronParseError, parseCronSchedule } from "./cron_schedule.js";
import {
  FIELD_IMMUTABLE_ERROR_MSG,
  deepEqual,
  nameIsDNSSubdomain,
  objectMeta,
  selectorMatches,
  validateLabelSelector,
  validateNonnegativeField,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./name_validation.js";
import { obj, present, str, type Obj } from "./json_access.js";



/** Indexed Jobs track each index: upstream caps their parallelism. */
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;
/** The CronJob controller appends `-<11 chars>` to name Jobs, which must stay DNS labels (63). */
const CRONJOB_NAME_LENGTH_MAX = 52;

function nonnegativeIfSet(spec: Obj, name: string, field: string): FieldError[] {
  const v = spec[name];
  return typeof v === "number" ? validateNonnegativeField(v, child(field, name)) : [];
}

/** validateJobSpec; `isTemplate` for a CronJob's jobTemplate, whose selector is always generated. */
function validateJobSpec(specRaw: unknown, field: string, isTemplate: boolean): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  for (const f of ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"]) errs.push(...nonnegativeIfSet(spec, f, field));
  if (present(spec["backoffLimitPerIndex"])) errs.push(...nonnegativeIfSet(spec, "backoffLimitPerIndex", field));
  if (present(spec["completionMode"])) {
    const mode = str(spec["completionMode"]);
    if (mode !== "NonIndexed" && mode !== "Indexed") errs.push(notSupported(child(field, "completionMode"), mode, ["NonIndexed", "Indexed"]));
    if (mode === "Indexed") {
      if (!present(spec["completions"])) errs.push(required(child(field, "completions"), "when completion mode is Indexed"));
      const parallelism = spec["parallelism"];
      if (typeof parallelism === "number" && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
        errs.push(invalid(child(field, "parallelism"), parallelism, `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`));
      }
    }
  }
  const tp = child(field, "template");
  const template = obj(spec["template"]);
  const labels = obj(template["metadata"])["labels"] as Record<string, string> | undefined;
  if (!isTemplate) {
    if (present(spec["selector"])) {
      errs.push(...validateLabelSelector(spec["selector"], child(field, "selector")));
      if (!selectorMatches(spec["selector"], labels)) {
        errs.push(invalid(child(tp, "metadata", "labels"), new GoValue(goStringMap(labels)), "`selector` does not match template `labels`"));
      }
    } else if (spec["manualSelector"] === true) {
      errs.push(required(child(field, "selector")));
    }
  }
  errs.push(...validatePodTemplateSpec(template, tp));
  const tspec = obj(template["spec"]);
  const restartPolicy = str(tspec["restartPolicy"]);
  if (restartPolicy !== "OnFailure" && restartPolicy !== "Never") {
    errs.push(notSupported(child(tp, "spec", "restartPolicy"), restartPolicy, ["OnFailure", "Never"]));
  } else if (restartPolicy === "OnFailure" && present(spec["podFailurePolicy"])) {
    errs.push(invalid(child(tp, "spec", "restartPolicy"), restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  const prp = spec["podReplacementPolicy"];
  if (present(prp) && prp !== "TerminatingOrFailed" && prp !== "Failed") {
    errs.push(notSupported(child(field, "podReplacementPolicy"), str(prp), ["TerminatingOrFailed", "Failed"]));
  }
  return errs;
}

/** ValidateJob (create). The selector and its labels come from the job strategy unless manualSelector. */
export function validateJob(job: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(job), true, nameIsDNSSubdomain), ...validateJobSpec(job["spec"], "spec", false)];
}

/** ValidateJobUpdate: selector, completionMode and (outside suspension) the pod template are immutable. */
export function validateJobUpdate(job: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(job), objectMeta(old)), ...validateJobSpec(job["spec"], "spec", false)];
  const spec = obj(job["spec"]);
  const oldSpec = obj(old["spec"]);
  const indexed = str(spec["completionMode"]) === "Indexed";
  // Elastic Indexed Jobs may scale completions together with parallelism.
  if (!(indexed && spec["completions"] === spec["parallelism"])) {
    if (!deepEqual(spec["completions"], oldSpec["completions"])) errs.push(invalid("spec.completions", spec["completions"] ?? null, FIELD_IMMUTABLE_ERROR_MSG));
  }
  if (!deepEqual(spec["selector"], oldSpec["selector"])) errs.push(invalid("spec.selector", goLabelSelector(spec["selector"]), FIELD_IMMUTABLE_ERROR_MSG));
  const template = obj(spec["template"]);
  const oldTemplate = obj(oldSpec["template"]);
  let comparable: Obj = template;
  // A suspended Job that never started may change its scheduling directives (JobMutableNodeSchedulingDirectives).
  if (spec["suspend"] === true && oldSpec["suspend"] === true) {
    const ts = { ...obj(template["spec"]) };
    const os = obj(oldTemplate["spec"]);
    for (const f of ["nodeSelector", "tolerations", "affinity", "schedulingGates"]) ts[f] = os[f];
    const meta = { ...obj(template["metadata"]), labels: obj(oldTemplate["metadata"])["labels"], annotations: obj(oldTemplate["metadata"])["annotations"] };
    comparable = { ...template, metadata: meta, spec: ts };
  }
  if (!deepEqual(comparable, oldTemplate)) errs.push(invalid("spec.template", new GoValue("core.PodTemplateSpec{...}"), FIELD_IMMUTABLE_ERROR_MSG));
  if (!deepEqual(spec["completionMode"], oldSpec["completionMode"])) errs.push(invalid("spec.completionMode", str(spec["completionMode"]), FIELD_IMMUTABLE_ERROR_MSG));
  return errs;
}

function validateSchedule(schedule: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  try {
    parseCronSchedule(schedule);
  } catch (err) {
    if (!(err instanceof CronParseError)) throw err;
    errs.push(invalid(field, schedule, err.message));
  }
  if (schedule.includes("TZ")) errs.push(invalid(field, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  return errs;
}

function validateTimeZone(tz: string, field: string): FieldError[] {
  if (tz.toLowerCase() === "local") return [invalid(field, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")];
  if (tz === "") return [];
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return [];
  } catch {
    return [invalid(field, tz, `unknown time zone ${tz}`)];
  }
}

/** ValidateCronJobSpec. */
function validateCronJobSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  const schedule = str(spec["schedule"]);
  if (schedule.length === 0) errs.push(required(child(field, "schedule")));
  else errs.push(...validateSchedule(schedule, child(field, "schedule")));
  errs.push(...nonnegativeIfSet(spec, "startingDeadlineSeconds", field));
  if (present(spec["timeZone"])) errs.push(...validateTimeZone(str(spec["timeZone"]), child(field, "timeZone")));
  const policy = str(spec["concurrencyPolicy"]);
  if (policy === "") errs.push(required(child(field, "concurrencyPolicy")));
  else if (!["Allow", "Forbid", "Replace"].includes(policy)) errs.push(notSupported(child(field, "concurrencyPolicy"), policy, ["Allow", "Forbid", "Replace"]));
  const jt = obj(spec["jobTemplate"]);
  const jtPath = child(field, "jobTemplate");
  const jobSpec = obj(jt["spec"]);
  if (present(jobSpec["selector"])) errs.push(invalid(child(jtPath, "spec", "selector"), goLabelSelector(jobSpec["selector"]), "`selector` will be auto-generated"));
  if (jobSpec["manualSelector"] === true) errs.push(notSupported(child(jtPath, "spec", "manualSelector"), true, ["nil", "false"]));
  errs.push(...validateJobSpec(jobSpec, child(jtPath, "spec"), true));
  errs.push(...nonnegativeIfSet(spec, "successfulJobsHistoryLimit", field));
  errs.push(...nonnegativeIfSet(spec, "failedJobsHistoryLimit", field));
  return errs;
}

/** ValidateCronJobCreate. */
export function validateCronJob(cj: Obj): FieldError[] {
  const meta = objectMeta(cj);
  const errs = validateObjectMeta(meta, true, nameIsDNSSubdomain);
  const name = meta.name ?? "";
  if (name.length > CRONJOB_NAME_LENGTH_MAX) errs.push(invalid("metadata.name", name, `must be no more than ${CRONJOB_NAME_LENGTH_MAX} characters`));
  errs.push(...validateCronJobSpec(cj["spec"], "spec"));
  return errs;
}

export function validateCronJobUpdate(cj: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(cj), objectMeta(old)), ...validateCronJobSpec(cj["spec"], "spec")];
}
