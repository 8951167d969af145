/**
 * Storage defaults shared by pods (volumes, ephemeral claims), persistent volumes, claims and
 * statefulset claim templates: SetDefaults_Volume and the per-source defaulters, several of which are
 * `+default=` markers on core/v1 types rather than functions.
 */

import { defaultObjectFieldSelector } from "./container.js";
import { child, defaultNil, defaultZero, isNil, items, struct, type JsonObject } from "./fields.js";

/** 0644, the defaultMode of secret, configMap, downwardAPI and projected volumes. */
export const VOLUME_DEFAULT_MODE = 0o644;
/** One hour: a projected service account token's lifetime when none is asked for. */
export const SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS = 3600;

/** SetDefaults_Volume and the defaults of whichever source the volume has. */
export function defaultVolume(volume: JsonObject): void {
  // A volume naming no source at all is an emptyDir: VolumeSource is inlined, so every key but
  // `name` belongs to it.
  const hasSource = Object.keys(volume).some((key) => key !== "name" && !isNil(volume[key]));
  if (!hasSource) volume["emptyDir"] = {};

  const hostPath = child(volume, "hostPath");
  if (hostPath !== undefined) defaultHostPath(hostPath);
  for (const key of ["secret", "configMap"]) {
    const source = child(volume, key);
    if (source !== undefined) defaultNil(source, "defaultMode", VOLUME_DEFAULT_MODE);
  }
  const downwardAPI = child(volume, "downwardAPI");
  if (downwardAPI !== undefined) {
    defaultNil(downwardAPI, "defaultMode", VOLUME_DEFAULT_MODE);
    defaultDownwardAPIItems(downwardAPI);
  }
  const projected = child(volume, "projected");
  if (projected !== undefined) defaultProjected(projected);
  const iscsi = child(volume, "iscsi");
  if (iscsi !== undefined) defaultISCSI(iscsi);
  const rbd = child(volume, "rbd");
  if (rbd !== undefined) defaultRBD(rbd);
  const azureDisk = child(volume, "azureDisk");
  if (azureDisk !== undefined) defaultAzureDisk(azureDisk);
  const scaleIO = child(volume, "scaleIO");
  if (scaleIO !== undefined) defaultScaleIO(scaleIO);
  const template = child(child(volume, "ephemeral") ?? {}, "volumeClaimTemplate");
  if (template !== undefined) {
    const spec = struct(template, "spec");
    if (spec !== undefined) defaultPersistentVolumeClaimSpec(spec);
  }
}

/** The persistent-volume sources that have defaults (PersistentVolumeSource is inlined in the PV spec). */
export function defaultPersistentVolumeSource(spec: JsonObject): void {
  const hostPath = child(spec, "hostPath");
  if (hostPath !== undefined) defaultHostPath(hostPath);
  const iscsi = child(spec, "iscsi");
  if (iscsi !== undefined) defaultISCSI(iscsi);
  const rbd = child(spec, "rbd");
  if (rbd !== undefined) defaultRBD(rbd);
  const azureDisk = child(spec, "azureDisk");
  if (azureDisk !== undefined) defaultAzureDisk(azureDisk);
  const scaleIO = child(spec, "scaleIO");
  if (scaleIO !== undefined) defaultScaleIO(scaleIO);
}

/** SetDefaults_PersistentVolumeClaimSpec: a claim is for a filesystem unless it asks for a block device. */
export function defaultPersistentVolumeClaimSpec(spec: JsonObject): void {
  defaultNil(spec, "volumeMode", "Filesystem");
}

/** SetDefaults_PersistentVolumeClaim and its spec: a new claim is Pending until bound. */
export function defaultPersistentVolumeClaim(claim: JsonObject): void {
  const spec = struct(claim, "spec");
  const status = struct(claim, "status");
  if (status !== undefined) defaultZero(status, "phase", "Pending");
  if (spec !== undefined) defaultPersistentVolumeClaimSpec(spec);
}

/** SetDefaults_HostPathVolumeSource: nil type becomes "" (no check before mounting), so it shows. */
function defaultHostPath(source: JsonObject): void {
  defaultNil(source, "type", "");
}

function defaultDownwardAPIItems(source: JsonObject): void {
  for (const item of items(source, "items")) {
    const fieldRef = child(item, "fieldRef");
    if (fieldRef !== undefined) defaultObjectFieldSelector(fieldRef);
  }
}

function defaultProjected(projected: JsonObject): void {
  defaultNil(projected, "defaultMode", VOLUME_DEFAULT_MODE);
  for (const source of items(projected, "sources")) {
    const downwardAPI = child(source, "downwardAPI");
    if (downwardAPI !== undefined) defaultDownwardAPIItems(downwardAPI);
    const token = child(source, "serviceAccountToken");
    if (token !== undefined) defaultNil(token, "expirationSeconds", SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS);
  }
}

// The remaining sources are `+default=` markers on the in-tree plugin types.
function defaultISCSI(source: JsonObject): void {
  defaultZero(source, "iscsiInterface", "default");
}

function defaultRBD(source: JsonObject): void {
  defaultZero(source, "pool", "rbd");
  defaultZero(source, "user", "admin");
  defaultZero(source, "keyring", "/etc/ceph/keyring");
}

function defaultAzureDisk(source: JsonObject): void {
  defaultNil(source, "cachingMode", "ReadWrite");
  defaultNil(source, "fsType", "ext4");
  defaultNil(source, "readOnly", false);
  defaultNil(source, "kind", "Shared");
}

function defaultScaleIO(source: JsonObject): void {
  defaultZero(source, "storageMode", "ThinProvisioned");
  defaultZero(source, "fsType", "xfs");
}
