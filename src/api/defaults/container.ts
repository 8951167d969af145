/**
 * Defaults for one container of a pod spec (regular, init or ephemeral), as the generated
 * SetObjectDefaults_* walk applies them: SetDefaults_Container, then its ports, env, probes and
 * lifecycle handlers. Resource lists are not rounded here (see README).
 */

import { defaultPullPolicy } from "./image.js";
import { child, defaultNil, defaultZero, isZero, items, type JsonObject } from "./fields.js";

/** As v1.TerminationMessagePathDefault. */
export const TERMINATION_MESSAGE_PATH_DEFAULT = "/dev/termination-log";

/** SetDefaults_Container and the declarative defaults of the types a container holds. */
export function defaultContainer(container: JsonObject): void {
  if (isZero(container["imagePullPolicy"])) container["imagePullPolicy"] = defaultPullPolicy(container["image"]);
  defaultZero(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH_DEFAULT);
  defaultZero(container, "terminationMessagePolicy", "File");
  // ContainerPort.protocol carries `+default="TCP"`.
  for (const port of items(container, "ports")) defaultZero(port, "protocol", "TCP");
  for (const env of items(container, "env")) {
    const fieldRef = child(child(env, "valueFrom") ?? {}, "fieldRef");
    if (fieldRef !== undefined) defaultObjectFieldSelector(fieldRef);
  }
  for (const key of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const probe = child(container, key);
    if (probe !== undefined) defaultProbe(probe);
  }
  const lifecycle = child(container, "lifecycle");
  if (lifecycle !== undefined) {
    for (const key of ["postStart", "preStop"]) {
      const httpGet = child(child(lifecycle, key) ?? {}, "httpGet");
      if (httpGet !== undefined) defaultHTTPGetAction(httpGet);
    }
  }
}

/** SetDefaults_Probe plus its handler's defaults. */
export function defaultProbe(probe: JsonObject): void {
  defaultZero(probe, "timeoutSeconds", 1);
  defaultZero(probe, "periodSeconds", 10);
  defaultZero(probe, "successThreshold", 1);
  defaultZero(probe, "failureThreshold", 3);
  const httpGet = child(probe, "httpGet");
  if (httpGet !== undefined) defaultHTTPGetAction(httpGet);
  // GRPCAction.service carries `+default=""`: nil becomes the empty string, which means the whole server.
  const grpc = child(probe, "grpc");
  if (grpc !== undefined) defaultNil(grpc, "service", "");
}

/** SetDefaults_HTTPGetAction. */
export function defaultHTTPGetAction(action: JsonObject): void {
  defaultZero(action, "path", "/");
  defaultZero(action, "scheme", "HTTP");
}

/** SetDefaults_ObjectFieldSelector: a fieldRef without apiVersion means v1. */
export function defaultObjectFieldSelector(selector: JsonObject): void {
  defaultZero(selector, "apiVersion", "v1");
}
